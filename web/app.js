// The covgate worklist: queues, a filtered and sorted list paged by cursor, a claim's detail
// with its evidence and timeline, a reviewer's release or cancel (one or in bulk), charts and
// the documentation audit. Everything comes from covgate's own API with the tab's bearer
// token; nothing is fetched from anywhere else, and every value reaches the page as text
// (textContent / createElement), never as markup.
"use strict";

const state = {
  token: sessionStorage.getItem("covgate-token") || "",
  me: null,
  queue: "documentation",
  sort: "since",
  desc: false,
  limit: 50,
  filters: {},
  cursors: [""],  // the cursor of each page visited; the last is the current page's
  next: null,
  rows: [],
  selected: new Set(),
  openId: null,
  version: null,
  view: "worklist",
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 3500);
}

// ---- the API -------------------------------------------------------------------------------

class AuthError extends Error {}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { ...options, headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  if (r.status === 401) {
    askToken("The server did not accept the token.");
    throw new AuthError("unauthorized");
  }
  const type = r.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await r.json() : await r.text();
  if (!r.ok && !options.allowError) {
    const detail = body && (body.detail || body.title) ? (body.detail || body.title) : r.statusText;
    throw new Error(`${r.status}: ${detail}`);
  }
  return options.allowError ? { status: r.status, body } : body;
}

function askToken(message) {
  $("token-error").textContent = message || "";
  const d = $("token-dialog");
  if (!d.open) d.showModal();
  $("token-input").focus();
}

// ---- formatting ----------------------------------------------------------------------------

function age(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 3600) return `${Math.max(0, Math.floor(seconds / 60))} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}
const money = (cents) => (cents / 100).toLocaleString("en-US", { style: "currency", currency: "USD" });
const when = (iso) => (iso ? iso.replace("T", " ").replace("Z", " UTC") : "");
const yesNo = (b) => el("span", { class: b ? "yes" : "no" }, b ? "yes" : "no");
const queueTitle = { documentation: "Documentation", review: "Review", "not-covered": "Not covered",
  invalid: "Invalid", released: "Recently released" };

// ---- queues and the list -------------------------------------------------------------------

async function loadQueues() {
  const q = await api("/queues");
  const box = $("queues");
  box.replaceChildren(...q.queues.map((x) => el("button", {
    type: "button", role: "tab", class: "queue" + (x.queue === state.queue ? " active" : ""),
    "data-queue": x.queue, "aria-selected": x.queue === state.queue ? "true" : "false",
    onclick: () => { state.queue = x.queue; resetPaging(); refresh(); },
  }, queueTitle[x.queue] || x.queue, el("span", { class: "count" }, x.count),
  el("span", { class: "oldest" }, x.count ? `oldest ${age(x.oldest_age_seconds)}` : "empty"))));
}

function resetPaging() {
  state.cursors = [""];
  state.selected.clear();
}

function listUrl() {
  const p = new URLSearchParams({ queue: state.queue, limit: String(state.limit),
    sort: (state.desc ? "-" : "") + state.sort });
  for (const [k, v] of Object.entries(state.filters)) if (v !== "") p.set(k, v);
  const after = state.cursors[state.cursors.length - 1];
  if (after) p.set("after", after);
  return "/claims?" + p.toString();
}

// A claim as the API names it: its CLM01 and its billing provider's NPI, since two billing
// providers may send the same CLM01 (a patient control number each assigns).
const claimRef = (c) => JSON.stringify([c.id, (c.billing && c.billing.npi) || ""]);
function claimPath(ref, action) {
  const [id, npi] = JSON.parse(ref);
  return `/claims/${encodeURIComponent(id)}${action ? "/" + action : ""}` +
    (npi ? `?billing_npi=${encodeURIComponent(npi)}` : "");
}

async function loadList() {
  const page = await api(listUrl());
  state.rows = page.claims;
  state.next = page.next;
  const body = $("claims").tBodies[0];
  body.replaceChildren(...page.claims.map((c) => el("tr", {
    class: "row" + (claimRef(c) === state.openId ? " open" : ""), "data-id": c.id,
    "data-ref": claimRef(c),
    onclick: (e) => { if (e.target.type !== "checkbox") openClaim(claimRef(c)); },
  },
  el("td", {}, el("input", { type: "checkbox", "aria-label": `select ${c.id}`,
    checked: state.selected.has(claimRef(c)), onchange: (e) => select(claimRef(c), e.target.checked) })),
  el("td", { class: "code" }, c.id),
  el("td", {}, c.patient_name || "", el("div", { class: "muted code" }, c.patient)),
  el("td", {}, c.dos),
  el("td", { class: "code" }, c.reasons.join(", ")),
  el("td", {}, c.billing.name, el("div", { class: "muted code" }, c.billing.npi)),
  el("td", {}, c.sender.name || c.sender.id, el("div", { class: "muted code" }, c.sender.id)),
  el("td", { class: "num" }, money(c.charge_cents)),
  el("td", { title: c.since || "" }, when(c.since), el("div", { class: "muted" }, age(c.age_seconds))),
  el("td", { class: "num" }, c.events))));
  const first = (state.cursors.length - 1) * state.limit;
  $("page-info").textContent = page.total === 0 ? "no claims" :
    `${first + 1}-${first + page.claims.length} of ${page.total}`;
  $("prev").disabled = state.cursors.length <= 1;
  $("next").disabled = !page.next;
  for (const th of $("claims").tHead.rows[0].cells) {
    th.classList.toggle("sorted", th.dataset.sort === state.sort);
    th.classList.toggle("desc", th.dataset.sort === state.sort && state.desc);
  }
  $("select-all").checked = page.claims.length > 0 && page.claims.every((c) => state.selected.has(claimRef(c)));
  updateBulk();
}

function select(id, on) {
  if (on) state.selected.add(id); else state.selected.delete(id);
  updateBulk();
}

function updateBulk() {
  $("selected-count").textContent = `${state.selected.size} selected`;
  const reviewable = state.queue === "review" || state.queue === "not-covered" || state.queue === "invalid";
  $("bulk").hidden = !reviewable;
  $("bulk-release").disabled = $("bulk-cancel").disabled = state.selected.size === 0;
}

async function loadReasons() {
  const charts = await api("/charts?days=30");
  const select = $("f-reason");
  const current = select.value;
  select.replaceChildren(el("option", { value: "" }, "any"), ...charts.holds_by_reason.map((r) =>
    el("option", { value: r.reason, title: r.sentence }, `${r.reason} (${r.count})`)));
  select.value = current;
  return charts;
}

async function refresh() {
  try {
    await Promise.all([loadQueues(), loadList()]);
    if (state.openId) await openClaim(state.openId, true);
  } catch (e) {
    if (!(e instanceof AuthError)) toast(e.message);
  }
}

// ---- one claim -----------------------------------------------------------------------------

function dl(pairs) {
  return el("dl", {}, pairs.filter(Boolean).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function factView(e) {
  const f = e.fact;
  if (!f) return el("div", { class: "evidence" }, el("span", { class: "code" }, e.cited), " (not kept)");
  const link = el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); showResource(e.resource, ev.target); } },
    e.resource);
  const parts = [];
  if (f.fact === "lab") {
    parts.push(`${f.kind}: ${f.value ?? ""} ${f.unit ?? ""}`);
    if (f.low !== undefined) parts.push(`LLN ${f.low}`);
    if (f.percent_of_lln !== undefined) parts.push(`${f.percent_of_lln.toFixed(1)} % of LLN`);
    if (f.fasting) parts.push(`fasting: ${f.fasting}`);
    if (f.method) parts.push(f.method);
    if (f.effective_at) parts.push(when(f.effective_at));
  } else {
    for (const [k, v] of Object.entries(f)) {
      if (k !== "fact" && k !== "resource" && typeof v !== "object") parts.push(`${k}: ${v}`);
    }
  }
  return el("div", { class: "evidence" }, link, " ", el("span", { class: "muted" }, f.fact), el("div", {}, parts.join(" · ")));
}

async function showResource(resource, anchor) {
  const [type, id] = resource.split("/");
  const r = await api(`/fhir/${encodeURIComponent(type)}/${encodeURIComponent(id)}`, { allowError: true });
  const pre = el("pre", { class: "raw" }, typeof r.body === "string" ? r.body : JSON.stringify(r.body, null, 2));
  anchor.parentElement.append(pre);
}

function csiiView(doc) {
  return dl([
    ["Insulinopenia", el("span", {}, yesNo(doc.insulinopenia), doc.basis ? ` (${doc.basis})` : "",
      doc.reason ? ` ${doc.reason}` : "")],
    doc.test && ["Test", `${doc.test.kind} ${doc.test.value ?? ""} ${doc.test.unit ?? ""} ${when(doc.test.effective_at)}`],
    doc.percent_of_lln !== null && doc.percent_of_lln !== undefined && ["% of LLN", doc.percent_of_lln.toFixed(1)],
    doc.glucose && ["Glucose beside it", `${doc.glucose.value} ${doc.glucose.unit} ${when(doc.glucose.effective_at)}`],
    doc.clearance && ["Creatinine clearance", `${doc.clearance.value} ${doc.clearance.unit} (${doc.clearance.method})`],
    ["Criterion A", el("span", {}, yesNo(doc.criterion_a), doc.criterion_a_missing.length ? ` missing ${doc.criterion_a_missing.join(", ")}` : "")],
    ["Criterion B", yesNo(doc.criterion_b)],
    ["Physician visit", el("span", {}, yesNo(doc.physician_visit), ` within ${doc.followup_days} days`)],
    ["NPP visits only", yesNo(doc.npp_visits_only)],
    ["Visits", doc.visits.map((v) => `${v.date} ${v.class} (${v.providers.join(", ") || "unknown"})`).join("; ") || "none"],
  ]);
}

async function openClaim(ref, quiet) {
  state.openId = ref;
  for (const tr of $("claims").tBodies[0].rows) tr.classList.toggle("open", tr.dataset.ref === ref);
  const [id] = JSON.parse(ref);
  let c;
  try {
    c = await api(claimPath(ref));
  } catch (e) {
    if (!quiet && state.openId === ref) toast(e.message);
    return;
  }
  // Another claim opened (or the detail closed) while this one was asked for: its answer,
  // come late (a refresh's quiet reload of the claim open before), is not shown over it.
  if (state.openId !== ref) return;
  const cur = c.current;
  $("detail-title").replaceChildren(`Claim ${c.claim.id} `,
    el("span", { class: "badge " + (cur.outcome === "release" ? "release" : "hold") }, c.queue));
  const actions = [];
  if (c.reviewable) {
    const reason = el("input", { id: "action-reason", placeholder: "reason (required)", maxlength: 4096 });
    const act = async (verb) => {
      if (!reason.value.trim()) { reason.focus(); toast("A reason is required"); return; }
      try {
        await api(claimPath(ref, verb), { method: "POST", body: { reason: reason.value } });
        toast(`${id}: ${verb === "release" ? "released" : "cancelled"}`);
        await refresh();
      } catch (e) { if (!(e instanceof AuthError)) toast(e.message); }
    };
    actions.push(el("h3", {}, "Action"), el("div", { class: "actions" }, reason,
      el("button", { type: "button", id: "action-release", onclick: () => act("release") }, "Release"),
      el("button", { type: "button", id: "action-cancel", class: "danger", onclick: () => act("cancel") }, "Cancel"),
      el("span", { class: "muted" }, `as ${state.me && state.me.name ? state.me.name : "anonymous"}`)));
  } else if (cur.outcome === "hold:documentation") {
    actions.push(el("p", { class: "muted" }, "A documentation hold leaves by itself when the missing evidence arrives."));
  }
  const cl = c.claim;
  const body = [
    ...actions,
    el("h3", {}, "Claim"),
    dl([["Patient", `${cl.patient.name.last}, ${cl.patient.name.first} (${cl.patient.member_id})`],
      ["Date of service", cur.dos || ""], ["Held since", `${when(c.since)} (${age(c.age_seconds)})`],
      ["Billing provider", `${cl.billing.name} NPI ${cl.billing.npi}`],
      ["Sender", `${cl.sender.name || ""} ${cl.sender.id}`], ["Diagnoses", cl.diagnoses.join(", ")],
      ["Place of service", cl.place_of_service || cl.bill_type || ""], ["Charge", money(cl.charge_cents)]]),
    el("table", { class: "lines" }, el("thead", {}, el("tr", {}, ["#", "Procedure", "Modifiers", "Class", "Units", "DOS", "Charge"].map((h) => el("th", {}, h)))),
      el("tbody", {}, cl.lines.map((l) => el("tr", {}, el("td", {}, l.number), el("td", { class: "code" }, l.procedure),
        el("td", { class: "code" }, l.modifiers.join(":")), el("td", {}, l.class), el("td", {}, l.units), el("td", {}, l.dos),
        el("td", { class: "num" }, money(l.charge_cents)))))),
    el("h3", {}, "Reasons"),
    c.reasons.length ? c.reasons.map((r) => el("div", { class: "reason" },
      el("div", {}, r.sentence), el("div", { class: "muted code" }, `${r.code} · line ${r.line} · STC ${r.stc}`),
      r.detail ? el("div", { class: "muted" }, r.detail) : null)) : el("p", { class: "muted" }, "None: the claim passes."),
    el("h3", {}, "Evidence"),
    c.evidence.length ? c.evidence.map(factView) : el("p", { class: "muted" }, "No fact cited."),
    c.csii ? [el("h3", {}, `Insulin pump documentation on ${c.csii.as_of}`), csiiView(c.csii)] : null,
    el("h3", {}, "Timeline"),
    el("ol", { class: "timeline" }, c.history.map((h) => el("li", {},
      el("strong", {}, h.event), ` → ${h.outcome} `, el("span", { class: "muted" }, when(h.at)),
      el("div", {}, `by ${h.who}`, h.why ? `: ${h.why}` : ""),
      h.message ? el("div", { class: "muted" }, el("a", { href: "#", onclick: (e) => { e.preventDefault(); showMessage(h.message, e.target); } }, `message ${h.message}`)) : null))),
    el("h3", {}, "Raw message"),
    c.message.id && c.message.available
      ? el("button", { type: "button", id: "show-raw", onclick: (e) => showMessage(c.message.id, e.target) }, "show")
      : el("p", { class: "muted" }, "Not kept (replayed, or pruned by retention)."),
  ];
  $("detail-body").replaceChildren(...body.flat().filter((n) => n !== null && n !== undefined));
  $("detail").hidden = false;
}

function closeDetail() {
  $("detail").hidden = true;
  state.openId = null;
  for (const tr of $("claims").tBodies[0].rows) tr.classList.remove("open");
}

async function showMessage(id, anchor) {
  try {
    const m = await api(`/messages/${id}`);
    anchor.replaceWith(el("div", {}, el("div", { class: "muted" }, `${m.kind} via ${m.channel} at ${when(m.received)}, ${m.bytes} bytes`),
      el("pre", { class: "raw" }, m.body)));
  } catch (e) { toast(e.message); }
}

// ---- bulk actions --------------------------------------------------------------------------

async function bulk(verb) {
  const reason = $("bulk-reason").value.trim();
  if (!reason) { $("bulk-reason").focus(); toast("A reason is required"); return; }
  const ids = [...state.selected].map((ref) => {
    const [id, npi] = JSON.parse(ref);
    return npi ? { id, billing_npi: npi } : id;
  });
  try {
    const r = await api(`/claims/${verb}`, { method: "POST", body: { ids, reason } });
    $("bulk-result").textContent = `${r.done} of ${ids.length} ${verb === "release" ? "released" : "cancelled"}`;
    state.selected.clear();
    await refresh();
  } catch (e) { if (!(e instanceof AuthError)) toast(e.message); }
}

// ---- charts (inline SVG) -------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function barsHorizontal(items, label) {
  const max = Math.max(1, ...items.map((i) => i.count));
  const row = 22, left = 230, width = 560;
  const root = svg("svg", { viewBox: `0 0 ${width} ${Math.max(1, items.length) * row + 10}`, role: "img",
    "aria-label": label, width: "100%" });
  if (!items.length) root.append(svg("text", { x: 4, y: 16 }, "nothing held"));
  items.forEach((i, n) => {
    const w = Math.max(2, (width - left - 50) * i.count / max);
    root.append(svg("text", { x: left - 6, y: n * row + 15, "text-anchor": "end" }, i.label),
      svg("rect", { x: left, y: n * row + 4, width: w, height: row - 8, fill: "#b34a00" }, svg("title", {}, i.title || `${i.label}: ${i.count}`)),
      svg("text", { x: left + w + 4, y: n * row + 15 }, i.count));
  });
  return root;
}

function barsVertical(days) {
  const max = Math.max(1, ...days.map((d) => d.count));
  const width = 900, height = 180, bottom = 24, step = width / Math.max(1, days.length);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "releases per day", width: "100%" });
  days.forEach((d, n) => {
    let y = height - bottom;
    for (const [key, color] of [["first_answer", "#9bb7dd"], ["by_evidence", "#1f7a3a"], ["by_reviewer", "#2b5797"]]) {
      const h = (height - bottom - 10) * d[key] / max;
      y -= h;
      if (h > 0) root.append(svg("rect", { x: n * step + 2, y, width: step - 4, height: h, fill: color },
        svg("title", {}, `${d.day} ${key.replace("_", " ")}: ${d[key]}`)));
    }
    if (n % 5 === 0) root.append(svg("text", { x: n * step, y: height - 6 }, d.day.slice(5)));
  });
  return root;
}

async function loadCharts() {
  const c = await loadReasons();
  $("chart-reason").replaceChildren(barsHorizontal(c.holds_by_reason.map((r) => ({ label: r.reason, count: r.count, title: r.sentence })), "holds by reason"));
  $("chart-age").replaceChildren(barsHorizontal(c.holds_by_age.map((b) => ({ label: b.bucket, count: b.count })), "holds by age"));
  $("chart-releases").replaceChildren(barsVertical(c.releases_by_day),
    el("p", { class: "muted" }, "light blue: released on first answer · green: released by late evidence · dark blue: released by a reviewer"));
}

// ---- the audit -----------------------------------------------------------------------------

async function loadAudit() {
  const date = $("audit-date").value;
  const a = await api(`/audit/csii?format=json${date ? "&as_of=" + date : ""}`);
  const cols = a.columns;
  const table = el("table", {}, el("thead", {}, el("tr", {}, cols.map((c) => el("th", {}, c.replaceAll("_", " "))))),
    el("tbody", {}, a.csii.map((r) => el("tr", {}, cols.map((c) => el("td", { class: r[c] === "yes" ? "yes" : r[c] === "no" ? "no" : "" }, r[c]))))));
  const claims = (title, list) => [el("h3", {}, `${title} (${list.length})`), list.length
    ? el("table", {}, el("thead", {}, el("tr", {}, ["claim", "patient", "DOS", "outcome", "setting", "where", "detail"].map((h) => el("th", {}, h)))),
      el("tbody", {}, list.map((c) => el("tr", { class: "row", onclick: () => openClaim(claimRef(c)) }, el("td", { class: "code" }, c.id), el("td", {}, c.patient),
        el("td", {}, c.dos), el("td", {}, c.outcome + (c.closed ? " (closed)" : "")), el("td", {}, c.setting), el("td", {}, c.place), el("td", {}, c.detail)))))
    : el("p", { class: "muted" }, "None.")];
  $("audit").replaceChildren(el("p", {}, `${a.csii.length} CSII patients as of ${a.as_of}.`), table,
    ...claims("External heparin claims by setting", a.heparin),
    ...claims("Liver chemotherapy claims missing the resectability statement", a.chemo_resectability_missing),
    ...claims("Implantable pump claims awaiting review", a.implantable_review));
  $("audit-date").value = a.as_of;
}

async function downloadCsv(e) {
  e.preventDefault();
  const date = $("audit-date").value;
  const text = await api(`/audit/csii?format=csv${date ? "&as_of=" + date : ""}`, { headers: { Accept: "text/csv" } });
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = el("a", { href: url, download: `csii-audit-${date || "today"}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- views, live updates, start ------------------------------------------------------------

function show(view) {
  state.view = view;
  if (view !== "worklist") closeDetail();
  for (const v of ["worklist", "charts", "audit"]) {
    $("view-" + v).hidden = v !== view;
    $("nav-" + v).classList.toggle("active", v === view);
  }
  const load = view === "charts" ? loadCharts : view === "audit" ? loadAudit : refresh;
  load().catch((e) => { if (!(e instanceof AuthError)) toast(e.message); });
}

// Polls GET /changes (cheap: a version number) and reloads what is on screen when it moved,
// so a claim a late lab released leaves its queue without a click.
async function poll() {
  try {
    const c = await api("/changes");
    if (state.version !== null && c.version !== state.version) {
      if (state.view === "worklist") await refresh();
      else if (state.view === "charts") await loadCharts();
      $("live").textContent = `updated ${new Date().toLocaleTimeString()}`;
    }
    state.version = c.version;
  } catch (e) {
    /* the next poll tries again */
  }
  setTimeout(poll, (state.me && state.me.poll_ms) || 5000);
}

async function start() {
  try {
    state.me = await api("/whoami");
  } catch (e) {
    return;  // askToken() is showing
  }
  $("who").textContent = state.me.name ? `signed in as ${state.me.name}` : "no tokens configured";
  await loadReasons().catch(() => {});
  show("worklist");
  poll();
}

function wire() {
  $("token-form").addEventListener("submit", () => {
    state.token = $("token-input").value.trim();
    sessionStorage.setItem("covgate-token", state.token);
    $("token-input").value = "";
    start();
  });
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem("covgate-token");
    state.token = "";
    askToken("");
  });
  for (const v of ["worklist", "charts", "audit"]) $("nav-" + v).addEventListener("click", () => show(v));
  $("filters").addEventListener("submit", (e) => {
    e.preventDefault();
    state.filters = Object.fromEntries(new FormData(e.target).entries());
    resetPaging();
    refresh();
  });
  $("filters").addEventListener("reset", () => { state.filters = {}; resetPaging(); setTimeout(refresh); });
  for (const th of $("claims").tHead.rows[0].cells) {
    if (!th.dataset.sort) continue;
    th.addEventListener("click", () => {
      state.desc = state.sort === th.dataset.sort ? !state.desc : false;
      state.sort = th.dataset.sort;
      resetPaging();
      refresh();
    });
  }
  $("next").addEventListener("click", () => { if (state.next) { state.cursors.push(state.next); loadList(); } });
  $("prev").addEventListener("click", () => { if (state.cursors.length > 1) { state.cursors.pop(); loadList(); } });
  $("page-size").addEventListener("change", (e) => { state.limit = Number(e.target.value); resetPaging(); loadList(); });
  $("select-all").addEventListener("change", (e) => {
    for (const c of state.rows) select(claimRef(c), e.target.checked);
    loadList();
  });
  $("bulk-release").addEventListener("click", () => bulk("release"));
  $("bulk-cancel").addEventListener("click", () => bulk("cancel"));
  $("detail-close").addEventListener("click", closeDetail);
  $("audit-run").addEventListener("click", () => loadAudit().catch((e) => toast(e.message)));
  $("audit-csv").addEventListener("click", downloadCsv);
}

wire();
start();
