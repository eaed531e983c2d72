// The worklist's API over loopback with curl: named tokens, the list's filters, sorting and
// keyset paging, percent-decoding, ISO 8601 times, a claim's evidence read back through
// GET /fhir/{type}/{id}, bulk actions recorded under the token's name, the queues, charts,
// change version, the audit and the page's own files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, curl, url } from './support.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const scenarios = path.join(here, '../../samples/inputs/scenarios');
const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const token = 'l00pback';
const auth = ['-H', `Authorization: Bearer ${token}`];

async function loaded() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'covgate-wl-'));
  writeFileSync(path.join(dir, 'tokens'), `# reviewers\nAlice Reviewer:${token}\n`);
  const s = await startServer(dir, { http: { tokens_file: path.join(dir, 'tokens') } });
  for (const name of ['02-csii-release-after-late-lab', '09-csii-insulinopenia-missing',
    '13-csii-c-peptide-glucose-too-high', '22-csii-followup-not-physician',
    '28-external-heparin-setting-unclear', '38-implantable-review']) {
    const dirOf = path.join(scenarios, name);
    const fhir = curl(s, [...auth, '-X', 'POST', '--data-binary', '@' + path.join(dirOf, '1-record.json'),
      url(s, '/fhir/Bundle')]);
    assert.equal(fhir.status, 201, fhir.body);
    const x12 = curl(s, [...auth, '-X', 'POST', '--data-binary', '@' + path.join(dirOf, '2-claim.x12'),
      url(s, '/x12')]);
    assert.equal(x12.status, 200, x12.body);
  }
  return s;
}

const get = (s, p) => {
  const r = curl(s, [...auth, url(s, p)]);
  return { status: r.status, body: r.body.startsWith('{') ? JSON.parse(r.body) : r.body };
};
const ids = (r) => r.body.claims.map((c) => c.id);

test('GET /claims: queues, filters, sort keys, keyset paging, percent-decoding, ISO times', async () => {
  const s = await loaded();
  assert.equal(curl(s, [url(s, '/claims?queue=documentation')]).status, 401);
  const docs = get(s, '/claims?queue=documentation');
  assert.equal(docs.status, 200);
  assert.equal(docs.body.total, 4);
  assert.deepEqual(ids(docs), ['CSII-LATE', 'HIGLU', 'NOCPEP', 'NP']);
  for (const c of docs.body.claims) {
    assert.match(c.since, iso);
    assert.equal(c.dos, '2026-04-01');
    assert.equal(c.patient_name.startsWith('DOE, JANE'), true);
  }
  // CSII-LATE waits for its C-peptide too.
  assert.deepEqual(ids(get(s, '/claims?queue=documentation&reason=csii.insulinopenia.missing')), ['CSII-LATE', 'NOCPEP']);
  assert.deepEqual(ids(get(s, '/claims?queue=documentation&reason=csii.c-peptide%2Eglucose-too-high')), ['HIGLU']);
  assert.deepEqual(ids(get(s, '/claims?queue=documentation&patient=2AA2AA2AA02')), ['CSII-LATE']);
  assert.equal(get(s, '/claims?queue=documentation&patient=doe%2C+jane').body.total, 4);
  assert.equal(get(s, '/claims?queue=documentation&provider=nobody%25').body.total, 0);  // % is literal
  assert.equal(get(s, '/claims?queue=documentation&dos_from=2026-04-02').body.total, 0);
  assert.equal(get(s, '/claims?queue=documentation&dos_from=2026-04-01&dos_to=2026-04-01').body.total, 4);
  assert.equal(get(s, '/claims?queue=documentation&min_age_days=1').body.total, 0);
  assert.equal(get(s, '/claims?queue=documentation&max_age_days=1').body.total, 4);
  assert.deepEqual(ids(get(s, '/claims?queue=documentation&sort=-id')), ['NP', 'NOCPEP', 'HIGLU', 'CSII-LATE']);
  assert.equal(get(s, '/claims?queue=review').body.total, 2);
  // Every sort key pages through the same set, one row at a time, in its order.
  for (const key of ['id', 'patient', 'name', 'dos', 'outcome', 'reason', 'provider', 'sender',
    'charge', 'since', 'updated', 'events']) {
    for (const sort of [key, '-' + key]) {
      const seen = [];
      let after = '';
      for (let page = 0; page < 10; ++page) {
        const r = get(s, `/claims?queue=documentation&sort=${encodeURIComponent(sort)}&limit=1` +
          (after ? `&after=${encodeURIComponent(after)}` : ''));
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.total, 4);
        seen.push(...ids(r));
        if (!r.body.next) break;
        after = r.body.next;
      }
      assert.deepEqual([...seen].sort(), ['CSII-LATE', 'HIGLU', 'NOCPEP', 'NP'], sort);
    }
  }
  for (const bad of ['/claims?queue=nope', '/claims?queue=documentation&sort=color',
    '/claims?queue=documentation&reasn=x', '/claims?queue=documentation&dos_from=2026-02-30',
    '/claims?queue=documentation&limit=1001', '/claims?queue=documentation&after=zz&sort=dos',
    '/claims?queue=documentation&reason=no.such']) {
    assert.equal(get(s, bad).status, 400, bad);
  }
});

test('a claim with its evidence; the cited facts read back as FHIR; identity from the token', async () => {
  const s = await loaded();
  const who = get(s, '/whoami');
  assert.equal(who.body.name, 'Alice Reviewer');
  const c = get(s, '/claims/HIGLU');
  assert.equal(c.status, 200);
  assert.equal(c.body.reasons[0].code, 'csii.c-peptide.glucose-too-high');
  assert.ok(c.body.reasons[0].sentence.length > 10);
  assert.ok(c.body.claim.lines.length >= 1);
  assert.ok(c.body.csii, 'an insulin pump claim shows its CSII documentation');
  assert.match(c.body.history[0].at, iso);
  const cited = c.body.reasons[0].facts;
  assert.ok(cited.length >= 1);
  const glucose = c.body.evidence.find((e) => e.fact && e.fact.kind === 'fasting-glucose');
  assert.ok(glucose, JSON.stringify(c.body.evidence));
  const resource = get(s, '/fhir/' + glucose.resource);
  assert.equal(resource.status, 200);
  assert.equal(resource.body.resourceType, 'Observation');
  assert.equal(resource.body.meta.tag[0].system, 'urn:covgate');
  assert.equal(get(s, '/fhir/Observation/not-there').status, 404);
  // The journaled message behind the claim.
  assert.ok(c.body.message.id > 0);
  const m = get(s, `/messages/${c.body.message.id}`);
  assert.equal(m.status, 200);
  assert.match(m.body.body, /CLM\*HIGLU/);

  // Bulk: the reviewer is the token's name, whatever "by" says.
  const bulk = curl(s, [...auth, '-X', 'POST', '--data-binary',
    JSON.stringify({ ids: ['IMP-SPAS', 'HEP-OUT', 'NOCPEP', 'NOPE'], reason: 'trial on file', by: 'mallory' }),
    url(s, '/claims/release')]);
  assert.equal(bulk.status, 200, bulk.body);
  assert.deepEqual(JSON.parse(bulk.body).results.map((r) => r.status),
    ['done', 'done', 'not-reviewable', 'unknown']);
  const released = get(s, '/claims/IMP-SPAS').body;
  assert.equal(released.current.outcome, 'release');
  assert.equal(released.history.at(-1).who, 'Alice Reviewer');
  assert.equal(released.history.at(-1).why, 'trial on file');
  assert.equal(get(s, '/claims?queue=review').body.total, 0);
  assert.deepEqual(ids(get(s, '/claims?queue=released')).sort(), ['HEP-OUT', 'IMP-SPAS']);
  assert.equal(curl(s, [...auth, '-X', 'POST', '--data-binary', '{"ids":[],"reason":"x"}',
    url(s, '/claims/cancel')]).status, 400);
});

test('queues, charts, the change version, the audit and the page', async () => {
  const s = await loaded();
  const q = get(s, '/queues').body;
  const doc = q.queues.find((x) => x.queue === 'documentation');
  assert.equal(doc.count, 4);
  assert.match(doc.oldest, iso);
  assert.ok(doc.oldest_age_seconds >= 0);
  const charts = get(s, '/charts').body;
  assert.ok(charts.holds_by_reason.some((r) => r.reason === 'csii.insulinopenia.missing' && r.count === 2));
  assert.equal(charts.holds_by_age.reduce((n, b) => n + b.count, 0), 6);
  assert.equal(charts.releases_by_day.length, 30);
  const before = get(s, '/changes').body.version;
  const labs = curl(s, [...auth, '-X', 'POST', '--data-binary',
    '@' + path.join(scenarios, '02-csii-release-after-late-lab', '3-late-labs.json'), url(s, '/fhir')]);
  assert.equal(labs.status, 200, labs.body);
  assert.notEqual(get(s, '/changes').body.version, before);
  assert.equal(get(s, '/claims?queue=documentation').body.total, 3);
  const csv = curl(s, [...auth, url(s, '/audit/csii?as_of=2026-04-01&format=csv')]);
  assert.equal(csv.status, 200);
  assert.match(csv.body, /^patient,insulinopenia_documented,physician_visit_within_3_months,npp_visits_only,/);
  assert.equal(csv.body.trim().split('\n').length, 1 + 4);
  const audit = get(s, '/audit/csii?as_of=2026-04-01').body;
  assert.equal(audit.csii.find((r) => r.patient === '2AA2AA2AA02').insulinopenia_documented, 'yes');
  assert.equal(get(s, '/audit/csii?as_of=yesterday').status, 400);
  // The page needs no token (it holds no data) and allows only its own script.
  const page = spawnHead(s, '/');
  assert.match(page, /200/);
  assert.match(page, /content-security-policy: default-src 'self'/i);
  assert.equal(curl(s, [url(s, '/ui/app.js')]).status, 200);
});

function spawnHead(s, p) {
  return curl(s, ['-D', '-', '-o', '/dev/null', url(s, p)]).body;
}
