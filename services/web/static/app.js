// circuitq page: live state over server-sent events, overrides through the JSON API.
// No framework: a few small render functions; text always goes in through textContent.
"use strict";

const S = { me: null, config: null, state: {}, events: {}, overrideBy: {}, timeline: null,
            days: [], day: null, tz: undefined, cards: {}, charts: {} };
const $ = (id) => document.getElementById(id);
const DURATIONS = [30, 60, 120, 240, 480, 720, 1440];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function api(path, opts = {}) {
  const headers = Object.assign({}, opts.headers || {});
  if (opts.method && opts.method !== "GET" && S.me) headers["X-CSRF-Token"] = S.me.csrf;
  const r = await fetch(path, Object.assign({ credentials: "same-origin" }, opts, { headers }));
  if (r.status === 401) { location.href = "/login"; throw new Error("logged out"); }
  const type = r.headers.get("content-type") || "";
  const body = type.includes("json") ? await r.json() : await r.text();
  return { status: r.status, ok: r.ok, body };
}

// ------------------------------------------------------------------ formatting (site time zone)
function fmt(iso, opts) {
  if (!iso) return "";
  const d = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  return new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: S.tz, hourCycle: "h23" }, opts)).format(d);
}
const hhmm = (iso) => fmt(iso, { hour: "2-digit", minute: "2-digit" });
function when(iso) {
  if (!iso) return "";
  const d = new Date(iso), now = new Date();
  return d - now < 20 * 3600e3 && d - now > -3600e3 ? hhmm(iso) : fmt(iso, { weekday: "short", hour: "2-digit", minute: "2-digit" });
}
function watts(w) {
  if (w === null || w === undefined || Number.isNaN(w)) return "–";
  return Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(1)} kW` : `${Math.round(w)} W`;
}
const kwh = (v) => (v === null || v === undefined ? "–" : `${v.toFixed(v >= 100 ? 0 : 1)} kWh`);
function money(v, cur) {
  if (v === null || v === undefined) return "–";
  try { return new Intl.NumberFormat(undefined, { style: "currency", currency: cur || "USD" }).format(v); }
  catch (e) { return `${v.toFixed(2)} ${cur || ""}`; }
}
const title = (name) => name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

let toastTimer = null;
function toast(text, error = false) {
  const t = $("toast");
  t.textContent = text; t.hidden = false; t.className = error ? "toast error" : "toast";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, error ? 8000 : 5000);
}

// ------------------------------------------------------------------ now: loads and DRM outputs
function loadStatus(st) {
  if (!st || typeof st !== "object") return { cls: "held", pill: "no state yet" };
  const over = st.mode && st.mode !== "auto";
  if (st.running) return { cls: over ? "override" : "running", pill: over ? `Running (override ${st.mode.toUpperCase()})` : "Running" };
  if (st.permitted) return { cls: over ? "override" : "idle", pill: over ? `Allowed (override ${st.mode.toUpperCase()})` : "Allowed, idle" };
  return { cls: over ? "override" : "held", pill: over ? `Off (override ${st.mode.toUpperCase()})` : "Held off" };
}

function durationSelect(maxMin, def) {
  const s = el("select", { "aria-label": "for how long" });
  s.append(el("option", { value: "", text: `default (${labelMin(def)})` }));
  for (const m of DURATIONS) if (m <= maxMin) s.append(el("option", { value: m, text: labelMin(m) }));
  return s;
}
function labelMin(m) { return m < 60 ? `${m} min` : `${+(m / 60).toFixed(1)} h`; }

function makeCard(kind, name, cfg) {
  const pill = el("span", { class: "pill" });
  const reason = el("p", { class: "reason" });
  const meta = el("p", { class: "meta" });
  const dur = durationSelect(cfg.override_max_min, cfg.override_default_min);
  const modes = kind === "drm" ? ["auto", ...cfg.modes.map(String)] : ["on", "off", "auto"];
  const buttons = modes.map((m) => el("button", {
    "data-mode": m, text: m === "auto" ? "Auto" : kind === "drm" ? `DRM ${m}` : m.toUpperCase(),
    onclick: () => override(kind, name, m, dur.value),
  }));
  const card = el("article", { class: "load", "data-load": name, "data-kind": kind },
    el("header", {}, el("h3", { text: kind === "drm" ? `${title(name)} (DRM)` : title(name) }), pill),
    reason, meta, el("div", { class: "controls" }, buttons, dur));
  if (cfg.description) card.title = cfg.description;
  return { card, pill, reason, meta, buttons };
}

function renderLoads() {
  const box = $("loads"), obs = $("observed");
  const cfg = S.config;
  const reading = S.state.curb_reading && S.state.curb_reading[""];
  const circuits = (reading && reading.circuits) || {};
  obs.replaceChildren();
  const names = Object.keys(cfg.loads).sort((a, b) => cfg.loads[b].priority - cfg.loads[a].priority);
  for (const name of names) {
    const lc = cfg.loads[name];
    const st = (S.state.load_state || {})[name];
    const w = st && st.power_w !== null && st.power_w !== undefined ? st.power_w : circuits[lc.circuit];
    if (lc.kind === "observed" || lc.kind === "drm") {
      if (lc.kind === "observed") obs.append(el("span", { class: st && st.running ? "running" : "", text: `${title(name)} ${watts(w)}` }));
      if (lc.kind === "observed") continue;
    }
    let c = S.cards[name];
    if (!c) { c = S.cards[name] = makeCard("load", name, lc); box.append(c.card); }
    const s = loadStatus(st);
    c.card.className = `load ${s.cls}`;
    c.pill.textContent = s.pill; c.pill.className = `pill ${s.cls}`;
    c.reason.textContent = st && st.reason ? st.reason.text : "waiting for the scheduler";
    const bits = [];
    if (w !== undefined) bits.push(watts(w));
    if (st && st.until) bits.push(`until ${when(st.until)}`);
    else if (st && st.next_change) bits.push(`next change ${when(st.next_change)}`);
    if (st && st.actual && st.actual.level) {
      let a = `relay ${st.actual.level}`;
      if (st.actual.pending) a += `, ${st.actual.pending.state} ${st.actual.pending.eligible_at ? "at " + when(st.actual.pending.eligible_at) : "held"} (${st.actual.pending.reason.text})`;
      bits.push(a);
    }
    const by = (S.overrideBy.load_state || {})[name];
    if (st && st.mode !== "auto" && by) bits.push(`set by ${by.by}`);
    if (st && st.runtime_today_h !== null && st.runtime_today_h !== undefined) bits.push(`ran ${st.runtime_today_h.toFixed(1)} h today`);
    c.meta.textContent = bits.join(" · ");
    for (const b of c.buttons) b.classList.toggle("active", st && st.mode === b.dataset.mode && st.mode !== "auto");
  }
  for (const [name, dc] of Object.entries(cfg.drm)) {
    const key = `drm:${name}`;
    let c = S.cards[key];
    if (!c) { c = S.cards[key] = makeCard("drm", name, dc); box.append(c.card); }
    const st = (S.state.drm_state || {})[name];
    const over = st && st.mode === "override";
    c.card.className = `load ${over ? "override" : st && st.drm_mode === 0 ? "running" : "held"}`;
    c.pill.className = `pill ${over ? "override" : st && st.drm_mode === 0 ? "running" : ""}`;
    c.pill.textContent = st ? `DRM ${st.drm_mode}${over ? " (override)" : ""}` : "no state yet";
    c.reason.textContent = st && st.reason ? st.reason.text : "waiting for the scheduler";
    const bits = [];
    if (st && st.production_w !== null && st.production_w !== undefined) bits.push(`solar ${watts(st.production_w)}`);
    if (st && st.until) bits.push(`until ${when(st.until)}`);
    if (st && st.actual && st.actual.drm_mode !== null && st.actual.drm_mode !== undefined) bits.push(`asserted DRM ${st.actual.drm_mode}`);
    const by = (S.overrideBy.drm_state || {})[name];
    if (over && by) bits.push(`set by ${by.by}`);
    c.meta.textContent = bits.join(" · ");
  }
}

function renderPower() {
  const r = S.state.curb_reading && S.state.curb_reading[""];
  const sol = S.state.solar_production && S.state.solar_production[""];
  const parts = [];
  if (sol) parts.push(el("span", {}, "Solar ", el("b", { text: watts(sol.w) }), sol.stale ? " (stale)" : ""));
  if (r) {
    parts.push(el("span", {}, "House ", el("b", { text: watts(r.consumption_w) })));
    const net = r.net_w;
    parts.push(el("span", {}, net >= 0 ? "Importing " : "Exporting ", el("b", { text: watts(Math.abs(net)) })));
    if (r.stale) parts.push(el("span", { class: "error", text: "Curb data is stale" }));
  }
  $("power").replaceChildren(...parts);
}

async function override(kind, name, mode, minutes) {
  const path = kind === "drm" ? `/api/drm/${name}/override` : `/api/loads/${name}/override`;
  const body = { mode: kind === "drm" && mode !== "auto" ? Number(mode) : mode };
  if (mode !== "auto" && minutes) body.minutes = Number(minutes);
  const card = S.cards[kind === "drm" ? `drm:${name}` : name];
  card.buttons.forEach((b) => { b.disabled = true; });
  try {
    const r = await api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) toast(`${title(name)}: ${r.body.error || r.status}`, true);
    else if (!r.body.confirmed) toast(`${title(name)}: ${r.body.message}`);
    else toast(`${title(name)}: ${mode === "auto" ? "back to automatic" : `${String(mode).toUpperCase()} until ${when(r.body.until)}`} (by ${r.body.by})`);
  } catch (e) {
    toast(`${title(name)}: ${e.message}`, true);
  } finally {
    card.buttons.forEach((b) => { b.disabled = false; });
  }
}

// ------------------------------------------------------------------ next 24 h
async function loadTimeline() {
  const r = await api("/api/timeline");
  if (r.ok) { S.timeline = r.body; renderTimeline(); }
}

function renderTimeline() {
  const tl = S.timeline;
  if (!tl) return;
  const a = Date.parse(tl.start), b = Date.parse(tl.end), span = b - a;
  const pct = (iso) => Math.max(0, Math.min(100, ((Date.parse(iso) - a) / span) * 100));
  $("plan-source").textContent = tl.source === "plan"
    ? `planned ${when(tl.plan_made)}${tl.plan_cost !== null && tl.plan_cost !== undefined ? ", expected " + money(tl.plan_cost, tl.currency) : ""}`
    : "from the calendars (no plan yet)";
  const axis = el("div", { class: "tl-axis" });
  const step = ($("timeline").clientWidth < 560 ? 6 : 3) * 3600e3;
  for (let t = Math.ceil(a / 3600e3) * 3600e3; t < b; t += 3600e3) {
    const hour = Number(fmt(t / 1000, { hour: "2-digit" }));
    if (hour % (step / 3600e3) !== 0) continue;
    const tick = el("span", { text: hhmm(t / 1000) });
    tick.style.left = `${Math.min(95, Math.max(4, ((t - a) / span) * 100))}%`;
    axis.append(tick);
  }
  const rows = [axis];
  const nowPct = pct(tl.now);
  for (const load of tl.loads) {
    const track = el("div", { class: "tl-track" });
    for (const s of load.spans) {
      const d = el("div", { class: `tl-span ${s.kind}`, title: `${s.label || s.kind} ${hhmm(s.start)}–${hhmm(s.end)}${s.kwh ? ` · ${s.kwh.toFixed(1)} kWh` : ""}${s.cost !== undefined && s.cost !== null ? ` · ${money(s.cost, tl.currency)}` : ""}` });
      d.style.left = `${pct(s.start)}%`; d.style.width = `${pct(s.end) - pct(s.start)}%`;
      if (s.kind === "run" || s.kind === "forced") d.textContent = s.label || "";
      track.append(d);
    }
    const now = el("div", { class: "tl-now" }); now.style.left = `${nowPct}%`; track.append(now);
    rows.push(el("div", { class: "tl-row", "data-load": load.name },
      el("div", { class: "tl-name" }, el("span", { text: title(load.name) }), el("span", { class: "tl-text", text: load.source === "plan" ? "plan" : "" })),
      track, el("div", { class: "tl-text", text: load.text })));
  }
  $("timeline").replaceChildren(...rows);
  const kinds = new Set(tl.loads.flatMap((l) => l.spans.map((s) => s.kind)));
  const names = { run: ["forced", "planned run"], blocked: ["blocked", "blocked"], forced: ["forced", "forced on"],
                  solar: ["solar", "may run on solar"], runtime: ["runtime", "daily runtime window"] };
  $("timeline-legend").replaceChildren(
    ...Object.keys(names).filter((k) => kinds.has(k)).map((k) => el("span", {}, el("i", { class: names[k][0] }), names[k][1])),
    el("span", {}, el("i", { class: "price" }), "import price"), el("span", {}, el("i", { class: "solar" }), "solar forecast"));
  renderPriceChart(tl, a / 1000, b / 1000);
}

function chartWidth(id) { return Math.max(260, $(id).clientWidth || 600); }

function renderPriceChart(tl, a, b) {
  const box = $("price-chart");
  if (S.charts.price) { S.charts.price.destroy(); S.charts.price = null; }
  box.replaceChildren();
  if (!window.uPlot || (!tl.prices.length && !tl.solar.length)) return;
  const xs = new Set([a, b]);
  tl.prices.forEach((p) => xs.add(Date.parse(p.start) / 1000));
  tl.solar.forEach((p) => xs.add(Date.parse(p.start) / 1000));
  const x = [...xs].filter((t) => t >= a && t <= b).sort((p, q) => p - q);
  const stepAt = (pts, key) => x.map((t) => { let v = null; for (const p of pts) if (Date.parse(p.start) / 1000 <= t) v = p[key]; return v; });
  const opts = {
    width: chartWidth("price-chart"), height: 110, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), S.tz || "UTC"),
    padding: [6, 0, 0, 0], cursor: { y: false }, legend: { show: false },
    scales: { x: { time: true, min: a, max: b }, price: { auto: true }, W: { auto: true, range: (u, mn, mx) => [0, Math.max(mx, 1)] } },
    axes: [{ show: false }, { scale: "price", show: false }, { scale: "W", show: false }],
    series: [{}, { label: `import ${tl.currency || ""}/kWh`, scale: "price", stroke: "#6d28d9", width: 2, paths: uPlot.paths.stepped({ align: 1 }), value: (u, v) => (v === null ? "–" : v.toFixed(3)) },
             { label: "solar W", scale: "W", stroke: "#f5b400", fill: "rgba(245,180,0,.25)", width: 1, value: (u, v) => (v === null ? "–" : Math.round(v)) }],
  };
  const price = stepAt(tl.prices, "import_per_kwh"), solar = stepAt(tl.solar, "w");
  S.charts.price = new uPlot(opts, [x, price, solar], box);
  const ps = price.filter((v) => v !== null), ws = solar.filter((v) => v !== null);
  const note = [];
  if (ps.length) note.push(`import ${Math.min(...ps).toFixed(2)}–${Math.max(...ps).toFixed(2)} ${tl.currency || ""}/kWh`);
  if (ws.length) note.push(`solar forecast up to ${watts(Math.max(...ws))}`);
  box.append(el("p", { class: "chart-note", text: note.join(" · ") }));
}

// ------------------------------------------------------------------ history
async function loadHistoryIndex() {
  const r = await api("/api/history");
  const sel = $("day-select");
  if (!r.ok) { $("day-note").textContent = r.body.error || "no history"; return; }
  S.days = r.body.days;
  sel.replaceChildren(...S.days.map((d) => el("option", { value: d, text: d === r.body.today ? `${d} (today)` : d })));
  if (!S.day || !S.days.includes(S.day)) S.day = S.days[0];
  sel.value = S.day;
  if (S.day) await loadDay(S.day);
}

async function loadDay(day) {
  S.day = day;
  $("day-select").value = day;
  $("csv-link").href = `/api/history/${day}/readings.csv`;
  $("log-link").href = `/api/history/${day}/activity.txt`;
  const r = await api(`/api/history/${day}`);
  if (!r.ok) { $("day-note").textContent = r.body.error; return; }
  renderDay(r.body);
}

function tile(k, v, cls = "") { return el("div", { class: `tile ${cls}` }, el("div", { class: "v", text: v }), el("div", { class: "k", text: k })); }

function renderDay(d) {
  const s = d.summary, cur = s.currency;
  $("day-note").textContent = `${s.readings} readings, ${s.covered_h.toFixed(1)} h covered${s.gap_count ? `, ${s.gap_count} gaps` : ""}${d.final ? "" : ` · so far (${hhmm(d.made)})`}`;
  const tiles = [tile("used", kwh(s.consumption_kwh)), tile("solar", kwh(s.production_kwh)),
    tile("imported", kwh(s.import_kwh)), tile("exported", kwh(s.export_kwh))];
  if (s.cost !== null) {
    tiles.push(tile("cost", money(s.cost, cur)), tile("with no control (estimate)", money(s.no_control.cost, cur)),
      tile("saved", money(s.saved, cur), s.saved > 0 ? "good" : ""));
  } else tiles.push(tile("cost", "no tariff"));
  tiles.push(tile("overrides", String(s.overrides ?? 0)), tile("alerts", String(s.alerts ?? 0)));
  $("day-tiles").replaceChildren(...tiles);
  const loads = Object.entries(s.loads).sort((p, q) => q[1].kwh - p[1].kwh);
  const top = Math.max(0.001, ...loads.map(([, v]) => v.kwh));
  $("day-loads").replaceChildren(el("div", { class: "caption", text: "energy per load (green: circuitq switches it)" }), ...loads.map(([n, v]) => {
    const bar = el("div", { class: "bar" }, el("i")); bar.firstChild.style.width = `${(v.kwh / top) * 100}%`;
    return el("div", { class: `bar-row ${v.controlled ? "controlled" : ""}`, "data-load": n },
      el("span", { text: title(n) }), bar,
      el("span", { class: "num", text: `${kwh(v.kwh)}${v.cost !== null ? " · " + money(v.cost, cur) : ""}` }));
  }));
  renderDayChart(d);
  $("day-log").replaceChildren(...d.log.map(logItem));
}

function renderDayChart(d) {
  const box = $("day-chart");
  if (S.charts.day) { S.charts.day.destroy(); S.charts.day = null; }
  box.replaceChildren();
  if (!window.uPlot || !d.series.t.length) return;
  const x = d.series.t.map((t) => Date.parse(t) / 1000);
  const kw = (arr) => arr.map((w) => (w === null ? null : w / 1000));
  S.charts.day = new uPlot({
    width: chartWidth("day-chart"), height: 190, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), S.tz || "UTC"),
    scales: { x: { time: true } }, axes: [{ values: (u, splits) => splits.map((v) => hhmm(v)) }, { label: "kW", size: 44 }],
    series: [{}, { label: "house kW", stroke: "#2563eb", width: 2, value: (u, v) => (v === null ? "–" : v.toFixed(2)) },
             { label: "solar kW", stroke: "#f5b400", fill: "rgba(245,180,0,.2)", width: 1, value: (u, v) => (v === null ? "–" : v.toFixed(2)) }],
  }, [x, kw(d.series.consumption_w), kw(d.series.production_w)], box);
}

function logItem(m) {
  const p = m.payload;
  let text;
  if (m.kind === "activity") text = `${p.subject}: ${p.message}`;
  else if (m.kind === "alert") text = `${p.resolved ? "resolved" : "ALERT"} ${p.title}: ${p.message}`;
  else text = `override ${title(m.name)}: ${typeof p === "string" ? p : JSON.stringify(p)} (by ${m.by || "MQTT"})`;
  return el("li", { class: m.kind }, el("time", { text: fmt(m.received || p.ts, { hour: "2-digit", minute: "2-digit", second: "2-digit" }) }), text);
}

// ------------------------------------------------------------------ alerts, activity, health, tokens
async function loadAlerts() {
  const r = await api("/api/alerts");
  if (!r.ok) return;
  const act = new Set(r.body.active.map((a) => a.key));
  const items = [...r.body.active, ...r.body.recent.filter((a) => a.resolved || !act.has(a.key))].slice(0, 30);
  $("alert-list").replaceChildren(...(items.length ? items.map((a) => el("li", { class: act.has(a.key) && !a.resolved ? "active" : "" },
    el("b", { text: a.title }), " ", el("span", { class: "muted", text: when(a.ts) }), el("div", { text: a.message }))) : [el("li", { text: "No alerts in the last 7 days." })]));
  const n = r.body.active.length;
  $("alert-count").hidden = !n; $("alert-count").textContent = String(n);
}

function renderActivity() {
  const items = (S.events.activity || []).slice(-40).reverse();
  $("activity").replaceChildren(...items.map((a) => el("li", {}, el("time", { text: hhmm(a.ts) }), `${a.subject}: ${a.message}`)));
}

async function loadHealth() {
  const r = await api("/api/health");
  if (!r.ok) return;
  $("health-list").replaceChildren(...r.body.services.map((s) => el("li", { "data-name": s.name },
    el("span", { class: `dot ${s.state}`, title: s.state }), el("span", { class: "name", text: s.name }),
    el("span", { class: "muted", text: s.since ? `${s.text} since ${when(s.since)}` : s.text }))));
}

async function loadTokens() {
  const r = await api("/api/tokens");
  if (!r.ok) return;
  $("token-list").replaceChildren(...r.body.tokens.map((t) => el("li", {},
    el("span", {}, el("b", { text: t.name }), " ", el("span", { class: "muted", text: `${t.user}, made ${when(t.created)}${t.last_used ? ", used " + when(t.last_used) : ""}` })),
    el("button", { class: "link", text: "Revoke", onclick: async () => { await api(`/api/tokens/${t.id}`, { method: "DELETE" }); loadTokens(); } }))));
}

async function newToken(ev) {
  ev.preventDefault();
  const name = $("token-name").value.trim();
  const r = await api("/api/tokens", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
  if (!r.ok) { toast(r.body.error, true); return; }
  const load = Object.keys(S.config.loads).find((n) => S.config.loads[n].kind === "relay") || "pool_pump";
  $("token-new").hidden = false;
  $("token-new").textContent = `${r.body.token}\n\n${r.body.note}. For example:\n` +
    `curl -H 'Authorization: Bearer ${r.body.token}' -d ON ${location.origin}/api/loads/${load}/override`;
  $("token-name").value = "";
  loadTokens();
}

// ------------------------------------------------------------------ live updates
let pending = new Set(), frame = null;
function schedule(part) {
  pending.add(part);
  if (!frame) frame = requestAnimationFrame(() => {
    const parts = pending; pending = new Set(); frame = null;
    if (parts.has("loads")) renderLoads();
    if (parts.has("power")) renderPower();
    if (parts.has("activity")) renderActivity();
  });
}
let healthTimer = null, timelineTimer = null;
function later(fn, ms, key) {
  if (key === "health") { clearTimeout(healthTimer); healthTimer = setTimeout(fn, ms); }
  else { clearTimeout(timelineTimer); timelineTimer = setTimeout(fn, ms); }
}

function showBroker(connected) {
  S.broker = connected;
  const live = $("live");
  if (!connected) { live.className = "live lost"; live.textContent = "no broker"; live.title = "the page has lost the broker: what it shows may be old"; }
  else { live.textContent = "live"; live.className = S.streaming ? "live on" : "live off"; live.title = "live updates"; }
}

function apply(ev) {
  const k = ev.kind;
  if (k === "broker") { showBroker(ev.data.connected); if (ev.data.connected) resync(); return; }
  if (k === "logout") { location.href = "/login"; return; }
  if (k === "reload") { location.reload(); return; }
  if (k === "alert" || k === "activity" || k === "error") {
    (S.events[k] = S.events[k] || []).push(ev.data);
    if (k === "alert") loadAlerts();
    if (k === "activity") schedule("activity");
    return;
  }
  if (k === "load_set" || k === "drm_set") {
    const target = k === "load_set" ? "load_state" : "drm_state";
    (S.overrideBy[target] = S.overrideBy[target] || {})[ev.name] = ev.data;
    schedule("loads");
    return;
  }
  S.state[k] = S.state[k] || {};
  if (ev.data === null) delete S.state[k][ev.name]; else S.state[k][ev.name] = ev.data;
  if (["load_state", "drm_state", "relay_state", "dred_state", "curb_reading"].includes(k)) schedule("loads");
  if (k === "curb_reading" || k === "solar_production") schedule("power");
  if (["status", "heartbeat", "curb_health", "solar_health", "solar_source_health"].includes(k)) later(loadHealth, 500, "health");
  if (["plan", "solar_forecast", "tariff_price"].includes(k)) later(loadTimeline, 500, "timeline");
}

async function resync() {
  const st = await api("/api/state");
  S.state = st.body.state; S.events = st.body.events; S.overrideBy = st.body.override_by;
  renderLoads(); renderPower(); renderActivity(); showBroker(st.body.broker_connected);
}

function connect() {
  const es = new EventSource("/api/events");
  let opened = false;
  es.onopen = () => {  // after a reconnection, catch up with what changed meanwhile
    S.streaming = true; showBroker(S.broker);
    if (opened) resync();
    opened = true;
  };
  es.onerror = () => { S.streaming = false; if (S.broker) { $("live").className = "live off"; $("live").title = "live updates: reconnecting"; } };
  es.onmessage = (m) => { try { apply(JSON.parse(m.data)); } catch (e) { console.error(e); } };
}

// ------------------------------------------------------------------ start
async function start() {
  const me = await api("/api/me");
  S.me = me.body;
  $("user").textContent = S.me.user;
  const st = await api("/api/state");
  S.config = st.body.config; S.state = st.body.state; S.events = st.body.events; S.overrideBy = st.body.override_by;
  S.tz = S.config.site.timezone;
  S.broker = st.body.broker_connected;
  $("site").textContent = S.config.site.name;
  document.title = `${S.config.site.name} · circuitq`;
  renderLoads(); renderPower(); renderActivity();
  connect();
  $("logout").onclick = async () => { await api("/logout", { method: "POST" }); location.href = "/login"; };
  $("day-select").onchange = (e) => loadDay(e.target.value);
  $("day-prev").onclick = () => { const i = S.days.indexOf(S.day); if (i + 1 < S.days.length) loadDay(S.days[i + 1]); };
  $("day-next").onclick = () => { const i = S.days.indexOf(S.day); if (i > 0) loadDay(S.days[i - 1]); };
  $("token-form").onsubmit = newToken;
  await Promise.all([loadTimeline(), loadHistoryIndex(), loadAlerts(), loadHealth(), loadTokens()]);
  document.body.dataset.ready = "1";
  setInterval(loadTimeline, 5 * 60e3);
  setInterval(loadHealth, 30e3);
  setInterval(() => { if (S.day && S.days[0] === S.day) loadDay(S.day); }, 5 * 60e3);
  window.addEventListener("resize", () => {
    if (S.charts.price) S.charts.price.setSize({ width: chartWidth("price-chart"), height: 110 });
    if (S.charts.day) S.charts.day.setSize({ width: chartWidth("day-chart"), height: 190 });
  });
}
start();
