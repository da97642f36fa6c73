// The Studio of the data API: pick members, run /v2/load, copy the query as cURL, GraphQL, SQL.
//
// Plain DOM, no library. Every value that comes from the service (members, descriptions, rows,
// error messages) becomes text (textContent, text nodes), never markup: the page's CSP requires
// Trusted Types, so assigning a string as HTML would throw. The token lives in this module's
// memory only; it is sent in the Authorization header of the page's own calls, and written into
// a copied call only when the user copies one with "my token" chosen.

const ROOT = new URL("../", document.baseURI);          // the service root (the page is at <root>/studio/)
const endpoint = (path) => new URL(path, ROOT).toString();
const $ = (id) => document.getElementById(id);

const OPERATORS = {
  equals: "equals", notEquals: "does not equal", in: "is one of", notIn: "is none of",
  gt: ">", gte: "≥", lt: "<", lte: "≤", contains: "contains", notContains: "does not contain",
  startsWith: "starts with", endsWith: "ends with", set: "is set", notSet: "is not set",
  inDateRange: "in date range", notInDateRange: "not in date range", beforeDate: "before date",
  afterDate: "after date",
};
const VALUELESS = new Set(["set", "notSet"]);

let token = null;       // memory only
let session = null;     // the /studio/members answer
let members = new Map(); // name -> {name, title, description, type, kind, table, granularities, masking}
const state = {
  measures: [], dimensions: [],
  time: { dimension: "", granularity: "", from: "", to: "" },
  filters: [],          // {id, member, operator, values: "one per line"}
  order: [],            // {id, member, direction}
};
let nextId = 1;
let lastRunKey = null;
let sqlFor = { key: null, answer: null };
let activeTab = "curl";

// ---- small DOM helpers ----------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function option(value, label, selected = false) {
  const o = el("option", { value }, label);
  o.selected = selected;
  return o;
}

// ---- calls to the service --------------------------------------------------------------------
async function call(method, path, body, credential = token) {
  const headers = { Authorization: `Bearer ${credential}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const started = performance.now();
  let response;
  try {
    response = await fetch(endpoint(path), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer", redirect: "error",
    });
  } catch (err) {
    return { ok: false, status: 0, headers: new Headers(), ms: 0,
             body: { error: { code: "NETWORK", message: `the service did not answer (${err.message})` } } };
  }
  let parsed = null;
  try { parsed = await response.json(); } catch { parsed = null; }
  if (!response.ok && !(parsed && parsed.error)) {
    const message = parsed && parsed.errors ? parsed.errors.map((e) => e.message).join("; ") : response.statusText;
    parsed = { error: { code: `HTTP_${response.status}`, message } };
  }
  return { ok: response.ok, status: response.status, headers: response.headers, body: parsed,
           ms: Math.round(performance.now() - started) };
}

function describeError(res) {
  const e = (res.body && res.body.error) || {};
  let text = `${res.status || "no answer"} ${e.code || ""}: ${e.message || "the call failed"}`;
  if (res.status === 429 && e.retryAfter) text += ` Try again in ${e.retryAfter} s.`;
  if (res.status === 401) text += " Log out and log in with a valid token.";
  return text;
}

// ---- log in / out ---------------------------------------------------------------------------
async function logIn(event) {
  event.preventDefault();
  const input = $("token");
  const value = input.value.trim();
  const error = $("login-error");
  error.textContent = "";
  if (!value) { error.textContent = "Paste your token or API key first."; input.focus(); return; }
  const button = event.submitter || $("login-form").querySelector("button");
  button.disabled = true;
  const res = await call("GET", "studio/members", undefined, value);
  button.disabled = false;
  if (!res.ok) { error.textContent = describeError(res); return; }
  token = value;
  input.value = "";
  session = res.body;
  startWorkspace();
}

function logOut() {
  token = null; session = null; members = new Map();
  Object.assign(state, { measures: [], dimensions: [], time: { dimension: "", granularity: "", from: "", to: "" },
                         filters: [], order: [] });
  lastRunKey = null; sqlFor = { key: null, answer: null };
  for (const id of ["member-list", "selected-list", "filter-rows", "order-rows", "meta", "sql-params"]) $(id).replaceChildren();
  $("rows").tHead.replaceChildren(); $("rows").tBodies[0].replaceChildren();
  $("rows-caption").textContent = "Run the query to see its rows.";
  for (const id of ["error", "run-status", "code-curl", "code-graphql", "code-sql", "whoami"]) $(id).textContent = "";
  $("workspace").hidden = true; $("session").hidden = true; $("login").hidden = false;
  $("token").focus();
}

function startWorkspace() {
  members = new Map();
  for (const cube of session.cubes) {
    for (const m of cube.measures) members.set(m.name, { ...m, kind: "measure", table: cube.name });
    for (const d of cube.dimensions) members.set(d.name, { ...d, kind: d.granularities ? "time" : "dimension", table: cube.name });
  }
  const c = session.caller;
  $("whoami").textContent = `${c.subject} · group ${c.group} · scopes ${c.scopes.join(", ")}`;
  const seg = session.meta.segmentsApplied || [];
  $("segments").textContent = seg.length
    ? `Row filters of your group, added to every query: ${seg.map((s) => `${s.name} (${s.description})`).join("; ")}.`
    : "";
  $("limit").max = session.meta.rowLimit;
  renderMemberList();
  renderTimeChoices();
  renderAll();
  $("login").hidden = true; $("session").hidden = false; $("workspace").hidden = false;
  $("member-search").focus();
}

// ---- the member list ------------------------------------------------------------------------
function memberLabel(m) {
  const parts = [el("span", { class: "title" }, m.title || m.name), " ", el("code", {}, m.name),
                 " ", el("span", { class: "badge" }, m.type)];
  if (m.masking) parts.push(" ", el("span", { class: "badge mask", title: "masked for your group" }, `masked: ${m.masking}`));
  if (m.description) parts.push(el("span", { class: "desc" }, m.description));
  return parts;
}

function renderMemberList() {
  const list = $("member-list");
  list.replaceChildren();
  for (const cube of session.cubes) {
    const groups = [["Measures", "measure", cube.measures], ["Dimensions", "dimension", cube.dimensions.filter((d) => !d.granularities)]];
    const details = el("details", { open: true, class: "cube", dataset: { table: cube.name } },
      el("summary", {}, el("span", { class: "cube-name" }, cube.name),
         ` ${cube.measures.length} measures, ${cube.dimensions.length} dimensions`));
    for (const [legend, kind, items] of groups) {
      if (!items.length) continue;
      const fs = el("fieldset", { class: "kind" }, el("legend", {}, legend));
      for (const m of items) {
        const box = el("input", { type: "checkbox", value: m.name, dataset: { kind }, onchange: onPick });
        fs.append(el("label", { class: "member", dataset: { search: `${m.name} ${m.title || ""} ${m.description || ""}`.toLowerCase() } },
          box, el("span", { class: "member-text" }, memberLabel(m))));
      }
      details.append(fs);
    }
    list.append(details);
  }
  filterMemberList();
}

function filterMemberList() {
  const needle = $("member-search").value.trim().toLowerCase();
  let shown = 0, total = 0;
  for (const label of $("member-list").querySelectorAll("label.member")) {
    const hit = !needle || label.dataset.search.includes(needle);
    label.hidden = !hit; total += 1; shown += hit ? 1 : 0;
  }
  for (const fs of $("member-list").querySelectorAll("fieldset.kind")) fs.hidden = !fs.querySelector("label.member:not([hidden])");
  for (const d of $("member-list").querySelectorAll("details.cube")) d.hidden = !d.querySelector("label.member:not([hidden])");
  const times = [...members.values()].filter((m) => m.kind === "time").length;
  $("member-count").textContent = needle ? `${shown} of ${total} members match` :
    `${total} measures and dimensions, ${times} time dimensions (under Time dimension)`;
}

function onPick(event) {
  const { value, checked } = event.target;
  const list = event.target.dataset.kind === "measure" ? state.measures : state.dimensions;
  const i = list.indexOf(value);
  if (checked && i < 0) list.push(value);
  if (!checked && i >= 0) list.splice(i, 1);
  renderAll();
}

function unpick(name) {
  for (const list of [state.measures, state.dimensions]) {
    const i = list.indexOf(name);
    if (i >= 0) list.splice(i, 1);
  }
  for (const box of $("member-list").querySelectorAll("input[type=checkbox]")) if (box.value === name) box.checked = false;
  renderAll();
}

// ---- builder controls -----------------------------------------------------------------------
function byTable(kinds) {
  const out = new Map();
  for (const m of members.values()) {
    if (!kinds.includes(m.kind)) continue;
    if (!out.has(m.table)) out.set(m.table, []);
    out.get(m.table).push(m);
  }
  return out;
}

function renderTimeChoices() {
  const select = $("time-dimension");
  select.replaceChildren(option("", "none"));
  for (const [table, items] of byTable(["time"])) {
    const group = el("optgroup", { label: table });
    for (const m of items) group.append(option(m.name, `${m.title || m.name} (${m.name})`, m.name === state.time.dimension));
    select.append(group);
  }
  renderGranularities();
}

function renderGranularities() {
  const m = members.get(state.time.dimension);
  const select = $("time-granularity");
  select.replaceChildren(option("", "none (a date range only)"));
  for (const g of (m && m.granularities) || []) select.append(option(g, g, g === state.time.granularity));
  select.disabled = !m;
  $("time-from").disabled = !m; $("time-to").disabled = !m;
}

function memberSelect(name, kinds, label, onchange) {
  const select = el("select", { "aria-label": label, onchange });
  select.append(option("", "choose a member"));
  const titles = { measure: "Measures", dimension: "Dimensions", time: "Time dimensions" };
  for (const kind of kinds) {
    const items = [...members.values()].filter((m) => m.kind === kind);
    if (!items.length) continue;
    const group = el("optgroup", { label: titles[kind] });
    for (const m of items) group.append(option(m.name, m.name, m.name === name));
    select.append(group);
  }
  return select;
}

function renderFilters() {
  const rows = $("filter-rows");
  rows.replaceChildren();
  state.filters.forEach((f, n) => {
    const label = `filter ${n + 1}`;
    const member = memberSelect(f.member, ["dimension", "measure", "time"], `${label}: member`, (e) => { f.member = e.target.value; changed(); });
    const values = el("textarea", { rows: 1, "aria-label": `${label}: values, one per line`, placeholder: "one value per line",
                                    oninput: (e) => { f.values = e.target.value; changed(); } });
    values.value = f.values;
    values.hidden = VALUELESS.has(f.operator);
    const op = el("select", { "aria-label": `${label}: operator`,
                              onchange: (e) => { f.operator = e.target.value; values.hidden = VALUELESS.has(f.operator); changed(); } });
    for (const name of session.filterOperators) op.append(option(name, OPERATORS[name] || name, name === f.operator));
    const remove = el("button", { type: "button", class: "remove", "aria-label": `Remove ${label}`,
                                  onclick: () => { state.filters = state.filters.filter((x) => x !== f); renderFilters(); changed(); } }, "Remove");
    rows.append(el("div", { class: "row filter", role: "group", "aria-label": label }, member, op, values, remove));
  });
}

function selectedNames() {
  const names = [...state.dimensions];
  if (state.time.dimension) names.push(state.time.dimension);
  return names.concat(state.measures);
}

function renderOrder() {
  const selected = new Set(selectedNames());
  state.order = state.order.filter((o) => !o.member || selected.has(o.member));
  const rows = $("order-rows");
  rows.replaceChildren();
  state.order.forEach((o, n) => {
    const label = `sort ${n + 1}`;
    const member = el("select", { "aria-label": `${label}: member`, onchange: (e) => { o.member = e.target.value; changed(); } });
    member.append(option("", "choose a selected member"));
    for (const name of selectedNames()) member.append(option(name, name, name === o.member));
    const dir = el("select", { "aria-label": `${label}: direction`, onchange: (e) => { o.direction = e.target.value; changed(); } });
    dir.append(option("asc", "ascending", o.direction === "asc"), option("desc", "descending", o.direction === "desc"));
    const remove = el("button", { type: "button", class: "remove", "aria-label": `Remove ${label}`,
                                  onclick: () => { state.order = state.order.filter((x) => x !== o); renderOrder(); changed(); } }, "Remove");
    rows.append(el("div", { class: "row order", role: "group", "aria-label": label }, member, dir, remove));
  });
  $("add-order").disabled = selected.size === 0;
}

function renderSelected() {
  const list = $("selected-list");
  list.replaceChildren();
  const names = selectedNames();
  for (const name of names) {
    const m = members.get(name);
    const kind = m.kind === "time" ? "time dimension" : m.kind;
    const remove = m.kind === "time"
      ? el("button", { type: "button", class: "remove", "aria-label": `Remove ${name}`, onclick: () => { state.time.dimension = ""; state.time.granularity = ""; renderTimeChoices(); renderAll(); } }, "×")
      : el("button", { type: "button", class: "remove", "aria-label": `Remove ${name}`, onclick: () => unpick(name) }, "×");
    list.append(el("li", { class: `chip ${m.kind}` }, el("span", { class: "badge" }, kind), " ", el("code", {}, name), " ", remove));
  }
  $("selected-empty").hidden = names.length > 0;
}

function renderAll() {
  renderSelected();
  renderOrder();
  renderFilters();
  changed();
}

// ---- the query, and the same query as cURL / GraphQL -----------------------------------------
function filterValues(f) {
  const m = members.get(f.member);
  const values = f.values.split("\n").map((v) => v.trim()).filter((v) => v !== "");
  // numbers of number members go as JSON numbers; GraphQL's values are strings, which the service reads the same
  return values.map((v) => (m && m.type === "number" && v !== "" && Number.isFinite(Number(v)) ? Number(v) : v));
}

function readNumber(id) {
  const raw = $(id).value.trim();
  return raw === "" ? null : Number(raw);
}

// the query as /v2/load takes it, or a reason it cannot be run yet
function buildQuery() {
  const query = {};
  const problems = [];
  if (state.measures.length) query.measures = [...state.measures];
  if (state.dimensions.length) query.dimensions = [...state.dimensions];
  const t = state.time;
  if (t.dimension) {
    const td = { dimension: t.dimension };
    if (t.granularity) td.granularity = t.granularity;
    if (t.from || t.to) {
      if (t.from && t.to) td.dateRange = [t.from, t.to];
      else problems.push("a date range needs both a From and a To date");
    }
    if (!td.granularity && !td.dateRange) problems.push("the time dimension needs a granularity or a date range");
    query.timeDimensions = [td];
  }
  const filters = [];
  state.filters.forEach((f, n) => {
    if (!f.member) { problems.push(`filter ${n + 1} has no member`); return; }
    const out = { member: f.member, operator: f.operator };
    if (!VALUELESS.has(f.operator)) {
      out.values = filterValues(f);
      if (!out.values.length) problems.push(`filter ${n + 1} (${f.member}) needs at least one value`);
    }
    filters.push(out);
  });
  if (filters.length) query.filters = filters;
  const order = state.order.filter((o) => o.member).map((o) => [o.member, o.direction]);
  if (order.length) query.order = order;
  const limit = readNumber("limit"), offset = readNumber("offset");
  if (limit !== null) {
    if (!Number.isInteger(limit) || limit < 1) problems.push("the limit must be a whole number of at least 1");
    query.limit = limit;
  }
  if (offset !== null) {
    if (!Number.isInteger(offset) || offset < 0) problems.push("the offset must be a whole number of at least 0");
    query.offset = offset;
  }
  if (!query.measures && !query.dimensions && !query.timeDimensions) problems.push("pick at least one measure or dimension");
  return { query, problems };
}

function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function credentialsMode() {
  return document.querySelector("input[name=credentials]:checked").value;
}

function maskToken(t) {
  return t.length > 16 ? `${t.slice(0, 8)}…${t.slice(-4)}` : "…";
}

// forCopy: the real token (when chosen); on screen it is shortened
function authHeader(forCopy) {
  if (credentialsMode() === "variable") return `--header "Authorization: Bearer $FSDP_API_TOKEN"`;
  return `--header ${shellQuote(`Authorization: Bearer ${forCopy ? token : maskToken(token)}`)}`;
}

function curlText(query, forCopy) {
  return [
    `curl --location ${shellQuote(endpoint("v2/load"))} \\`,
    `--header 'Content-Type: application/json' \\`,
    `${authHeader(forCopy)} \\`,
    `--data ${shellQuote(JSON.stringify({ query }, null, 4))}`,
  ].join("\n");
}

// a GraphQL string literal: JSON's escapes are GraphQL's
const gqlString = (s) => JSON.stringify(String(s));

function gqlList(items, indent) {
  const strings = items.map(gqlString);
  if (strings.length <= 1) return `[${strings.join(", ")}]`;
  const pad = " ".repeat(indent + 2);
  return `[\n${strings.map((s) => pad + s).join(",\n")}\n${" ".repeat(indent)}]`;
}

function gqlObject(obj) {
  return `{${Object.entries(obj).map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.map(gqlString).join(", ")}]` : gqlString(v)}`).join(", ")}}`;
}

function graphqlText(query) {
  const inner = [];
  const i6 = " ".repeat(6);
  if (query.measures) inner.push(`${i6}measures: ${gqlList(query.measures, 6)}`);
  if (query.dimensions) inner.push(`${i6}dimensions: ${gqlList(query.dimensions, 6)}`);
  if (query.timeDimensions) inner.push(`${i6}timeDimensions: [${query.timeDimensions.map(gqlObject).join(", ")}]`);
  if (query.filters) {
    inner.push(`${i6}filters: [${query.filters.map((f) => gqlObject(f.values ? { ...f, values: f.values.map(String) } : f)).join(", ")}]`);
  }
  if (query.order) inner.push(`${i6}order: [${query.order.map(([member, direction]) => gqlObject({ member, direction })).join(", ")}]`);
  const args = [`    query: {\n${inner.join("\n")}\n    }`];
  if (query.limit !== undefined) args.push(`    limit: ${query.limit}`);
  if (query.offset !== undefined) args.push(`    offset: ${query.offset}`);
  return `query {\n  load(\n${args.join("\n")}\n  ) {\n    data\n    meta\n  }\n}`;
}

function hasScope(scope) {
  return session && session.caller.scopes.includes(scope);
}

function renderCode() {
  if (!session) return;
  const { query, problems } = buildQuery();
  const cred = credentialsMode() === "variable" ? "export FSDP_API_TOKEN=<your token> before pasting." : "";
  $("code-curl").textContent = curlText(query, false);
  $("curl-note").textContent = `POST ${endpoint("v2/load")}. ${cred}${problems.length ? ` Not runnable yet: ${problems.join("; ")}.` : ""}`;
  $("code-graphql").textContent = graphqlText(query);
  $("graphql-note").textContent = hasScope("graphql")
    ? `POST ${endpoint("v2/graphql")} with the header Authorization: Bearer <your token> and the body {"query": "<this document>"}.`
    : `Your group (${session.caller.group}) has no graphql scope: the service refuses this query (403). The cURL call is open to you.`;
  if (activeTab === "sql") refreshSql();
}

function changed() {
  renderCode();
  const key = JSON.stringify(buildQuery().query);
  if (lastRunKey !== null && key !== lastRunKey) $("run-status").textContent = "The query changed since the rows below: run it again.";
}

// ---- SQL ------------------------------------------------------------------------------------
async function refreshSql() {
  const code = $("code-sql"), note = $("sql-note"), params = $("sql-params");
  if (!hasScope("sql")) {
    code.textContent = ""; params.replaceChildren();
    note.textContent = `Your group (${session.caller.group}) has no sql scope: the SQL the service runs is shown to groups that hold it.`;
    return;
  }
  const { query, problems } = buildQuery();
  if (problems.length) { code.textContent = ""; params.replaceChildren(); note.textContent = `Not runnable yet: ${problems.join("; ")}.`; return; }
  const key = JSON.stringify(query);
  if (sqlFor.key === key) return;
  sqlFor = { key, answer: null };
  note.textContent = "Asking the service for the SQL…";
  const res = await call("POST", "v2/sql", { query });
  if (sqlFor.key !== key) return;     // the query changed meanwhile
  if (!res.ok) { code.textContent = ""; params.replaceChildren(); note.textContent = describeError(res); sqlFor = { key: null, answer: null }; return; }
  sqlFor.answer = res.body;
  const [text, bound] = res.body.sql.sql;
  code.textContent = text;
  const meta = res.body.meta || {};
  note.textContent = `The SQL the service runs for you (POST ${endpoint("v2/sql")}): on your group's governed views (${meta.role}), `
    + "with its row filters; values are bound parameters, never part of the text.";
  params.replaceChildren();
  const entries = Array.isArray(bound) ? bound.map((v, i) => [`$${i + 1}`, v]) : Object.entries(bound || {}).map(([k, v]) => [`$${k}`, v]);
  for (const [name, value] of entries) params.append(el("dt", {}, name), el("dd", {}, JSON.stringify(value)));
}

// ---- run ------------------------------------------------------------------------------------
function columnsOf(query) {
  const cols = [];
  for (const d of query.dimensions || []) cols.push([d, d]);
  for (const t of query.timeDimensions || []) if (t.granularity) cols.push([`${t.dimension}.${t.granularity}`, t.dimension]);
  for (const m of query.measures || []) cols.push([m, m]);
  return cols;
}

function rateText(rate) {
  if (!rate) return "";
  return `${rate.remaining} of ${rate.limit} calls left in the ${rate.scope} window (resets ${rate.resetAt})`;
}

function metaEntry(list, term, value) {
  if (value === undefined || value === null || value === "") return;
  list.append(el("dt", {}, term), el("dd", { dataset: { meta: term } }, String(value)));
}

async function run() {
  const { query, problems } = buildQuery();
  const status = $("run-status"), error = $("error");
  error.textContent = "";
  if (problems.length) { status.textContent = `Cannot run yet: ${problems.join("; ")}.`; return; }
  const button = $("run");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  status.textContent = "Running…";
  const res = await call("POST", "v2/load", { query });
  button.disabled = false;
  button.removeAttribute("aria-busy");
  lastRunKey = JSON.stringify(query);
  const meta = $("meta");
  meta.replaceChildren();
  if (!res.ok) {
    status.textContent = "The query was refused.";
    error.textContent = describeError(res);
    const h = res.headers;
    if (h.get("X-RateLimit-Limit")) metaEntry(meta, "Rate limit", `${h.get("X-RateLimit-Remaining")} of ${h.get("X-RateLimit-Limit")} calls left`);
    metaEntry(meta, "Request id", h.get("X-Request-Id"));
    return;
  }
  const body = res.body, m = body.meta;
  metaEntry(meta, "Data date", m.logicalDate);
  metaEntry(meta, "Run", m.runId);
  metaEntry(meta, "Quality gate", m.qualityGate);
  metaEntry(meta, "Published", m.publishedAt);
  metaEntry(meta, "Rows", `${m.rows}${m.truncated ? " (truncated: there are more; set a limit and page with the offset)" : ""}`);
  metaEntry(meta, "Row filters", (m.segments || []).join(", ") || "none");
  const masking = Object.entries(m.masking || {});
  metaEntry(meta, "Masking", masking.length ? masking.map(([k, v]) => `${k}: ${v}`).join("; ") : "none");
  metaEntry(meta, "Cached", m.cached ? "yes" : "no");
  metaEntry(meta, "Rate limit", rateText(m.rateLimit));
  metaEntry(meta, "Request id", res.headers.get("X-Request-Id"));
  renderRows(body);
  status.textContent = `${m.rows} rows in ${res.ms} ms.`;
  if (activeTab === "sql") refreshSql();
}

function renderRows(body) {
  const table = $("rows");
  const cols = columnsOf(body.query);
  const ann = body.annotation || {};
  const titleOf = (name) => {
    for (const kind of ["measures", "dimensions", "timeDimensions"]) if (ann[kind] && ann[kind][name]) return ann[kind][name].title;
    return name;
  };
  const head = el("tr", {});
  for (const [key, member] of cols) {
    head.append(el("th", { scope: "col", dataset: { member: key } }, el("span", { class: "title" }, titleOf(member)), el("code", {}, key)));
  }
  table.tHead.replaceChildren(head);
  const tbody = table.tBodies[0];
  const rows = body.data.map((row) => el("tr", {}, cols.map(([key]) => {
    const v = row[key];
    return v === null || v === undefined ? el("td", { class: "null" }, "null") : el("td", { class: typeof v === "number" ? "num" : "" }, String(v));
  })));
  tbody.replaceChildren(...rows);
  $("rows-caption").textContent = `${body.data.length} rows, offset ${body.meta.offset}` + (body.meta.truncated ? " (more rows exist)" : "");
}

// ---- integration tabs and copy ----------------------------------------------------------------
function selectTab(name, focus = false) {
  activeTab = name;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (name === "sql" && session) refreshSql();
}

function onTabKey(event) {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  const i = tabs.indexOf(event.target);
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  selectTab(tabs[(next + tabs.length) % tabs.length].id.slice(4), true);
}

function copyText(kind) {
  const { query } = buildQuery();
  if (kind === "curl") return curlText(query, true);
  if (kind === "graphql") return graphqlText(query);
  return $("code-sql").textContent;
}

async function copy(event) {
  const button = event.currentTarget;
  const note = button.nextElementSibling;
  const text = copyText(button.dataset.copy);
  if (!text) { note.textContent = "Nothing to copy yet."; return; }
  try {
    if (navigator.clipboard && window.isSecureContext) await navigator.clipboard.writeText(text);
    else legacyCopy(text);
    note.textContent = "Copied.";
  } catch {
    try { legacyCopy(text); note.textContent = "Copied."; } catch { note.textContent = "The browser refused to copy: select the text and copy it."; }
  }
  setTimeout(() => { if (note.textContent === "Copied.") note.textContent = ""; }, 4000);
}

// pages served over plain http from another host are not a secure context: no clipboard API
function legacyCopy(text) {
  const area = el("textarea", { class: "offscreen", "aria-hidden": "true", readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy refused");
}

// ---- wiring ---------------------------------------------------------------------------------
function wire() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  $("member-search").addEventListener("input", filterMemberList);
  $("time-dimension").addEventListener("change", (e) => { state.time.dimension = e.target.value; state.time.granularity = ""; renderGranularities(); renderAll(); });
  $("time-granularity").addEventListener("change", (e) => { state.time.granularity = e.target.value; renderAll(); });
  $("time-from").addEventListener("change", (e) => { state.time.from = e.target.value; changed(); });
  $("time-to").addEventListener("change", (e) => { state.time.to = e.target.value; changed(); });
  $("add-filter").addEventListener("click", () => {
    state.filters.push({ id: nextId++, member: "", operator: "equals", values: "" });
    renderFilters(); changed();
    const selects = $("filter-rows").querySelectorAll("select");
    selects[selects.length - 2].focus();
  });
  $("add-order").addEventListener("click", () => {
    state.order.push({ id: nextId++, member: "", direction: "desc" });
    renderOrder(); changed();
    const selects = $("order-rows").querySelectorAll("select");
    selects[selects.length - 2].focus();
  });
  for (const id of ["limit", "offset"]) {
    $(id).addEventListener("input", changed);
    $(id).addEventListener("keydown", (e) => { if (e.key === "Enter") run(); });
  }
  $("run").addEventListener("click", run);
  for (const radio of document.querySelectorAll("input[name=credentials]")) radio.addEventListener("change", renderCode);
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => selectTab(tab.id.slice(4)));
    tab.addEventListener("keydown", onTabKey);
  }
  for (const button of document.querySelectorAll("button.copy")) button.addEventListener("click", copy);
}

wire();
