// The reviewer's worklist in headless chromium against a real `covgate serve` on loopback:
// sign in with a named token, see the queues, filter, watch a late lab release a claim by
// itself, open a review hold, release it and see it leave its queue.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const covgate = process.env.COVGATE;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const scenarios = path.join(root, 'samples/inputs/scenarios');
const artifacts = process.env.ARTIFACTS || mkdtempSync(path.join(os.tmpdir(), 'covgate-shots-'));
mkdirSync(artifacts, { recursive: true });
const token = 'br0wser-t0ken';
const cleanup = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

async function startServer() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'covgate-browser-'));
  writeFileSync(path.join(dir, 'tokens'), `Alice Reviewer:${token}\n`);
  writeFileSync(path.join(dir, 'covgate.json'), JSON.stringify({
    mllp: { enabled: false },
    http: { port: 0, tokens_file: path.join(dir, 'tokens') },
    store: { directory: path.join(dir, 'data') },
    worklist: { poll_ms: 500 },
  }));
  const proc = spawn(covgate, ['serve', '--config', path.join(dir, 'covgate.json')],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => proc.kill('SIGKILL'));
  const line = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); });
    proc.on('exit', (code) => reject(new Error(`covgate serve exited ${code}`)));
  });
  return `http://127.0.0.1:${/http [^ ]+:(\d+)/.exec(line)[1]}`;
}

async function post(base, route, file) {
  const r = await fetch(base + route, { method: 'POST', body: readFileSync(file),
    headers: { Authorization: `Bearer ${token}` } });
  assert.ok(r.status < 300, `${route} ${file}: ${r.status}`);
}

const scenario = (name, file) => path.join(scenarios, name, file);

test('list, filter, live release by a late lab, open a claim, release it', async () => {
  const base = await startServer();
  // Documentation holds (CSII), review holds (heparin at home, implantable) and a release.
  for (const name of ['01-csii-released', '02-csii-release-after-late-lab',
    '09-csii-insulinopenia-missing', '13-csii-c-peptide-glucose-too-high', '19-csii-criteria-missing', '27-external-heparin-home',
    '38-implantable-review']) {
    await post(base, '/fhir/Bundle', scenario(name, '1-record.json'));
    await post(base, '/x12', scenario(name, '2-claim.x12'));
  }
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    // As root (CI) chromium needs --no-sandbox; /dev/shm is small in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
  cleanup.push(() => browser.close());
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  // Script errors anywhere, and console errors once signed in (before it, the page's first
  // request is the expected 401 that makes it ask for the token).
  const problems = [];
  let signedIn = false;
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' && signedIn) problems.push(m.text()); });
  page.setDefaultTimeout(10000);

  // The page asks for the token once; the name comes from the token's line.
  await page.goto(base + '/');
  await page.waitForSelector('#token-dialog[open]');
  await page.type('#token-input', token);
  await page.click('#token-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#who').textContent.includes('Alice Reviewer'));
  assert.equal(await page.evaluate(() => sessionStorage.getItem('covgate-token')), token);
  signedIn = true;

  // The documentation queue: its count and the three CSII holds.
  const rowIds = () => page.$$eval('#claims tbody tr', (rows) => rows.map((r) => r.dataset.id));
  await page.waitForFunction(() => document.querySelectorAll('#claims tbody tr').length === 4);
  const count = (q) => page.$eval(`.queue[data-queue="${q}"] .count`, (e) => Number(e.textContent));
  // The page loads the queue counts and the list with two requests at once, so a count can
  // change a moment after the list did: wait for it (then assert, for a clear message).
  const countIs = async (q, n) => {
    await page.waitForFunction((queue, want) => {
      const e = document.querySelector(`.queue[data-queue="${queue}"] .count`);
      return e !== null && Number(e.textContent) === want;
    }, { timeout: 5000 }, q, n).catch(() => {});
    assert.equal(await count(q), n);
  };
  await countIs('documentation', 4);
  await countIs('review', 1);
  await countIs('not-covered', 1);
  assert.ok((await rowIds()).includes('CSII-LATE'));

  // Filter by patient (member id of scenario 02): one row; clear brings the three back.
  await page.type('input[name=patient]', '2AA2AA2AA02');
  await page.click('#filters button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#claims tbody tr').length === 1);
  assert.deepEqual(await rowIds(), ['CSII-LATE']);
  await page.screenshot({ path: path.join(artifacts, 'worklist-filtered.png') });
  await page.click('#filters button[type=reset]');
  await page.waitForFunction(() => document.querySelectorAll('#claims tbody tr').length === 4);

  // Sorting: a click on the claim column orders by id, a second click reverses it.
  await page.click('th[data-sort=id]');
  await page.waitForFunction(() => document.querySelector('th[data-sort=id]').classList.contains('sorted'));
  const ascending = await rowIds();
  assert.deepEqual(ascending, [...ascending].sort());

  // The late lab arrives through the API: the page sees the change by itself.
  await post(base, '/fhir', scenario('02-csii-release-after-late-lab', '3-late-labs.json'));
  await page.waitForFunction(() => !document.querySelector('#claims tbody tr[data-id="CSII-LATE"]'));
  await countIs('documentation', 3);
  await page.screenshot({ path: path.join(artifacts, 'worklist.png') });

  // A documentation hold's detail: the reason as a sentence, the C-peptide and the glucose
  // beside it, the CSII documentation, the timeline; no action (its evidence releases it).
  await page.click('#claims tbody tr[data-id="HIGLU"] td:nth-child(2)');
  await page.waitForFunction(() => /Claim HIGLU/.test(document.querySelector('#detail-title').textContent));
  const evidence = await page.$eval('#detail-body', (e) => e.textContent);
  assert.match(evidence, /c-peptide/);
  assert.match(evidence, /glucose/);
  assert.match(evidence, /% of LLN/);
  assert.equal(await page.$('#action-release'), null);
  await page.screenshot({ path: path.join(artifacts, 'claim-detail.png') });

  // The review queue: open the implantable claim and release it as Alice. Switching queues
  // reloads the open claim (HIGLU) quietly; its answer is held back here until after the
  // implantable claim is open, as a slow answer was once (CI): a detail answered late must
  // not replace the claim opened since.
  await page.setRequestInterception(true);
  let releaseHeld;
  const heldAnswered = new Promise((resolve) => { releaseHeld = resolve; });
  const holdHiglu = (request) => {
    if (request.method() === 'GET' && /\/claims\/HIGLU\b/.test(request.url())) {
      releaseHeld(() => request.continue());
    } else {
      request.continue();
    }
  };
  page.on('request', holdHiglu);
  await page.click('.queue[data-queue="review"]');
  await page.waitForSelector('#claims tbody tr[data-id="IMP-SPAS"]');
  await page.click('#claims tbody tr[data-id="IMP-SPAS"] td:nth-child(2)');
  await page.waitForSelector('#detail:not([hidden]) #action-release');
  const answerHeld = await heldAnswered;
  const lateAnswer = page.waitForResponse((r) => /\/claims\/HIGLU\b/.test(r.url()));
  answerHeld();
  await lateAnswer;
  page.off('request', holdHiglu);
  await page.setRequestInterception(false);
  // The late answer's rendering, had it happened, comes with the next frames.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 100))));
  assert.match(await page.$eval('#detail-title', (e) => e.textContent), /Claim IMP-SPAS/);
  await page.waitForSelector('#detail:not([hidden]) #action-release');
  const detail = await page.$eval('#detail-body', (e) => e.textContent);
  assert.match(detail, /Timeline/);
  assert.match(detail, /E0783/);
  await page.screenshot({ path: path.join(artifacts, 'review-detail.png') });
  await page.type('#action-reason', 'trial documented in the chart');
  await page.click('#action-release');
  await page.waitForFunction(() => !document.querySelector('#claims tbody tr[data-id="IMP-SPAS"]'));
  await countIs('review', 0);
  // The timeline now names Alice and her reason.
  await page.waitForFunction(() => /Alice Reviewer: trial documented/.test(document.querySelector('#detail-body').textContent));
  await page.screenshot({ path: path.join(artifacts, 'after-release.png') });

  // The charts render as inline SVG.
  await page.click('#nav-charts');
  await page.waitForSelector('#chart-reason svg rect');
  await page.screenshot({ path: path.join(artifacts, 'charts.png') });

  assert.deepEqual(problems, []);
  if (process.env.UPDATE_DOCS === '1') {
    copyFileSync(path.join(artifacts, 'worklist.png'), path.join(root, 'docs/worklist.png'));
    copyFileSync(path.join(artifacts, 'claim-detail.png'), path.join(root, 'docs/claim-detail.png'));
  }
  console.log(`screenshots in ${artifacts}`);
});
