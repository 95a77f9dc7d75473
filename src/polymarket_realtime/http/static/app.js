// Control room: state fed by /ws, rendered into the static page. No framework and no build step.
import { api, showToast } from "./api.js";
import { renderAgents, renderEdges, renderSessions, tickTimes } from "./cards.js";
import { setupForms, openAgentForm, openSessionForm } from "./forms.js";
import { Live } from "./ws.js";
import { renderAlerts, renderTiles } from "./system.js";
import { renderMarkets, watchedTokens } from "./markets.js";
import { ActivityView } from "./activity.js";
import { LogViewer } from "./logs.js";
import { SessionDetails } from "./details.js";

const MAX_EQUITY_POINTS = 3000;
const MAX_LOG_LINES = 1000;
const LOG_TAIL_AGENTS = 40; // subscribe to the logs of at most this many agents (card tails), running ones first

export const state = {
  system: null,
  systemAt: 0, // Date.now() when the system status arrived (ages tick from there)
  sessions: new Map(),
  agents: new Map(),
  firstSeen: new Map(), // id -> ms: stable card order and an age fallback
  activity: [],
  logs: new Map(), // agent id -> [{ts, level, message}]
  market: new Map(), // token -> {data, at, prev}
  equity: new Map(), // session id -> [{t, v}]
  gaps: [], // {at, channel, from, to}
  live: null,
  loaded: new Set(), // channels that delivered their first snapshot
  badgeHistory: ["reconnecting"], // connection states in order (read by the browser tests)
};

const dirty = new Set();
let flushQueued = false;

export function markDirty(...parts) {
  parts.forEach((p) => dirty.add(p));
  if (flushQueued) return;
  flushQueued = true;
  const run = () => {
    if (!flushQueued) return;
    flushQueued = false;
    flush();
  };
  requestAnimationFrame(run);
  setTimeout(run, 120); // rAF pauses in hidden tabs; the feed still has to render
}

const activityView = new ActivityView(state, openSubject);
const logViewer = new LogViewer(state, () => syncChannels());
const details = new SessionDetails(state);

function flush() {
  const parts = new Set(dirty);
  dirty.clear();
  if (parts.has("system")) { renderTiles(state); renderAlerts(state); renderSwitch(); }
  if (parts.has("tick")) tickTimes();
  if (parts.has("sessions")) { renderSessions(state, handlers); activityView.refreshNames(); }
  if (parts.has("agents") || parts.has("logs") || parts.has("sessions")) renderAgents(state, handlers);
  if (parts.has("sessions") || parts.has("agents")) syncChannels();
  if (parts.has("sessions") || parts.has("agents") || parts.has("logs")) renderEdges(); // card heights move
  if (parts.has("activity")) { activityView.render(); renderTiles(state); renderAlerts(state); }
  if (parts.has("market") || parts.has("sessions") || parts.has("agents")) renderMarkets(state);
  if (parts.has("logs")) logViewer.render();
  if (parts.has("sessions")) details.render();
}

// ---- channel data -------------------------------------------------------------------------------------

function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  return [];
}

function seen(id) {
  if (!state.firstSeen.has(id)) state.firstSeen.set(id, Date.now());
}

function upsertSession(v) {
  if (!v || !v.session_id) return;
  seen(v.session_id);
  const fresh = !state.sessions.has(v.session_id) && state.loaded.has("sessions");
  state.sessions.set(v.session_id, v);
  if (fresh) state.justCreated = v.session_id;
  const eq = parseFloat(v.equity);
  if (Number.isFinite(eq)) {
    const pts = state.equity.get(v.session_id) || [];
    const now = Date.now();
    const last = pts[pts.length - 1];
    if (!last || last.v !== eq || now - last.t > 5000) pts.push({ t: now, v: eq });
    else last.t = now; // flat: stretch the last point so the line keeps growing with time
    if (pts.length > MAX_EQUITY_POINTS) pts.splice(0, pts.length - MAX_EQUITY_POINTS);
    state.equity.set(v.session_id, pts);
  }
}

function upsertAgent(a) {
  if (!a || !a.agent_id) return;
  seen(a.agent_id);
  state.agents.set(a.agent_id, a);
}

function addActivity(entries) {
  const known = new Set(state.activity.map((e) => e.seq));
  for (const e of entries) if (e && !known.has(e.seq)) state.activity.push(e);
  state.activity.sort((a, b) => a.seq - b.seq);
  if (state.activity.length > 1000) state.activity.splice(0, state.activity.length - 1000);
}

function addLogs(agentId, lines, replace) {
  const list = replace ? [] : state.logs.get(agentId) || [];
  for (const l of lines) list.push({ ts: l.ts ?? l.ts_ms, level: l.level, message: l.message });
  if (list.length > MAX_LOG_LINES) list.splice(0, list.length - MAX_LOG_LINES);
  state.logs.set(agentId, list);
}

function apply(channel, data, isSnapshot) {
  if (channel === "system") {
    state.system = data;
    state.systemAt = Date.now();
    markDirty("system");
  } else if (channel === "sessions") {
    if (isSnapshot) {
      const next = listOf(data, "sessions");
      const ids = new Set(next.map((s) => s.session_id));
      for (const id of [...state.sessions.keys()]) if (!ids.has(id)) state.sessions.delete(id);
      next.forEach(upsertSession);
    } else upsertSession(data);
    markDirty("sessions");
  } else if (channel === "agents") {
    if (isSnapshot) {
      const next = listOf(data, "agents");
      const ids = new Set(next.map((a) => a.agent_id));
      for (const id of [...state.agents.keys()]) if (!ids.has(id)) state.agents.delete(id);
      next.forEach(upsertAgent);
    } else upsertAgent(data);
    markDirty("agents");
  } else if (channel === "activity") {
    if (isSnapshot) {
      // After a server restart seqs start over: a snapshot replaces what we hold.
      const entries = listOf(data, "entries");
      const maxSeen = state.activity.length ? state.activity[state.activity.length - 1].seq : 0;
      const maxNew = entries.length ? Math.max(...entries.map((e) => e.seq)) : 0;
      if (maxNew < maxSeen) state.activity = [];
      addActivity(entries);
    } else addActivity([data]);
    markDirty("activity");
  } else if (channel.startsWith("logs:")) {
    const id = channel.slice(5);
    addLogs(id, isSnapshot ? listOf(data, "lines") : [data], isSnapshot);
    markDirty("logs");
  } else if (channel.startsWith("market:")) {
    const token = channel.slice(7);
    const prev = state.market.get(token);
    state.market.set(token, { data, at: Date.now(), prev: prev ? prev.data : null });
    markDirty("market");
  }
  if (isSnapshot) state.loaded.add(channel);
}

// ---- which channels the page needs ---------------------------------------------------------------------

function syncChannels() {
  if (!state.live) return;
  const channels = ["system", "sessions", "agents", "activity"];
  const tail = [...state.agents.values()].sort((a, b) => (a.state === "stopped") - (b.state === "stopped")).slice(0, LOG_TAIL_AGENTS);
  for (const a of tail) channels.push(`logs:${a.agent_id}`);
  if (logViewer.agentId && !channels.includes(`logs:${logViewer.agentId}`)) channels.push(`logs:${logViewer.agentId}`);
  for (const t of watchedTokens(state).keys()) channels.push(`market:${t}`);
  state.live.want(channels);
}

// ---- controls -------------------------------------------------------------------------------------------

async function act(label, fn) {
  try {
    await fn();
  } catch (err) {
    showToast(`${label}: ${err.message}`);
  }
}

export const handlers = {
  sessionAction(s, action) {
    act(`${action} session ${s.name}`, async () => {
      const view = await api(`api/sessions/${encodeURIComponent(s.session_id)}/${action}`, { method: "POST" });
      if (view && view.session_id) { upsertSession(view); markDirty("sessions"); }
    });
  },
  agentAction(a, action) {
    act(`${action} agent ${a.agent_id}`, async () => {
      const view = await api(`api/agents/${encodeURIComponent(a.agent_id)}/${action}`, { method: "POST" });
      if (view && view.agent_id) { upsertAgent(view); markDirty("agents"); }
    });
  },
  openSession: (id) => { location.hash = `#session/${id}`; },
  openLogs: (id) => { location.hash = `#agent/${id}/logs`; },
  cancelOrder(s, order) {
    act(`cancel order ${order.order_id}`, () =>
      api(`api/sessions/${encodeURIComponent(s.session_id)}/orders/${encodeURIComponent(order.order_id)}/cancel`, { method: "POST" }),
    );
  },
};

function renderSwitch() {
  const btn = document.getElementById("master-switch");
  const pill = document.getElementById("switch-state");
  const sw = state.system ? state.system.switch : null;
  btn.disabled = !sw;
  const running = sw === "running";
  btn.textContent = running ? "Stop system" : "Start system";
  btn.className = `btn ${running ? "btn-switch-on" : "btn-switch-off"}`;
  pill.textContent = sw ? (running ? "running" : "stopped") : "…";
  pill.className = `pill ${running ? "st-running" : sw ? "st-stopped-system" : ""}`;
}

function setupControls() {
  document.getElementById("master-switch").addEventListener("click", (ev) => {
    const running = state.system && state.system.switch === "running";
    const btn = ev.currentTarget;
    btn.disabled = true;
    act(running ? "Stop system" : "Start system", async () => {
      await api(`api/system/${running ? "stop" : "start"}`, { method: "POST" });
      state.system = await api("api/system");
      state.systemAt = Date.now();
      markDirty("system");
    }).finally(() => { btn.disabled = false; });
  });
  document.getElementById("pause-all").addEventListener("click", () => act("Pause all", () => api("api/sessions/pause_all", { method: "POST" })));
  document.getElementById("resume-all").addEventListener("click", () => act("Resume all", () => api("api/sessions/resume_all", { method: "POST" })));
  document.getElementById("open-session-form").addEventListener("click", () => openSessionForm());
  document.getElementById("open-agent-form").addEventListener("click", () => openAgentForm(state));
}

function setupTheme() {
  const btn = document.getElementById("theme-toggle");
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  const current = () => document.documentElement.dataset.theme || (media.matches ? "dark" : "light");
  const label = () => {
    const next = current() === "dark" ? "light" : "dark";
    btn.setAttribute("aria-label", `Switch to ${next} theme`);
    btn.title = `Switch to ${next} theme`;
  };
  btn.addEventListener("click", () => {
    const next = current() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try { localStorage.setItem("pmrt-theme", next); } catch { /* private mode */ }
    label();
  });
  media.addEventListener("change", label);
  label();
}

// ---- hash routes: #session/<id>, #agent/<id>/logs ------------------------------------------------------

function openSubject(subject) {
  if (state.sessions.has(subject)) handlers.openSession(subject);
  else if (state.agents.has(subject)) handlers.openLogs(subject);
}

function route() {
  const m = location.hash.match(/^#(session|agent)\/([^/]+)(\/logs)?$/);
  if (!m) { details.close(); logViewer.close(); return; }
  const id = decodeURIComponent(m[2]);
  if (m[1] === "session") { logViewer.close(); details.open(id); }
  else { details.close(); logViewer.open(id); syncChannels(); }
}

/** A dialog closed: drop its hash (only its own; the close event comes late, maybe after another route). */
function clearRoute(prefix) {
  if (location.hash.startsWith(prefix)) history.replaceState(null, "", location.pathname + location.search);
}

// ---- connection badge ------------------------------------------------------------------------------------

function setBadge(st, detail) {
  const history = state.badgeHistory;
  if (history[history.length - 1] !== st) history.push(st);
  if (history.length > 50) history.shift();
  const badge = document.getElementById("conn-badge");
  badge.textContent = st;
  badge.dataset.state = st;
  badge.className = `badge badge-${st}`;
  badge.title = detail ? `Connection: ${st} (${detail})` : `Connection: ${st}`;
}

async function checkAuth() {
  try {
    await api("api/whoami");
  } catch { /* api() shows the login hint on 401 */ }
}

async function loadWhoami() {
  try {
    const who = await api("api/whoami");
    const parts = [who.server || "polymarket-realtime-mcp", who.version ? `v${who.version}` : null, who.redis ? (who.owner ? "Redis · owner" : "Redis · follower") : null, "paper trading only"];
    document.getElementById("whoami").textContent = parts.filter(Boolean).join(" · ");
  } catch { /* header keeps its default */ }
}

function main() {
  setupTheme();
  setupControls();
  setupForms(state, { onSession: (v) => { upsertSession(v); markDirty("sessions"); }, onAgent: (a) => { upsertAgent(a); markDirty("agents"); } });
  activityView.setup();
  details.onClose = () => clearRoute("#session/");
  logViewer.onClose = () => clearRoute("#agent/");
  state.live = new Live({
    onSnapshot: (c, d) => apply(c, d, true),
    onEvent: (c, d) => apply(c, d, false),
    onGap: (channel, from, to) => {
      state.gaps.push({ at: Date.now(), channel, from, to });
      markDirty("system");
    },
    onStatus: setBadge,
    onError: (msg) => {
      if (String(msg.detail || "").includes("logs:") || String(msg.detail || "").includes("market:")) return; // a gone agent/token
      console.warn("server:", msg);
    },
    onOpen: () => { document.getElementById("login-hint").hidden = true; loadWhoami(); },
    onAuth: checkAuth,
  });
  syncChannels();
  state.live.start();
  window.addEventListener("hashchange", route);
  route();
  // Relative times (ages, freshness, last active) tick once a second.
  setInterval(() => markDirty("system", "tick"), 1000);
  window.controlRoom = state; // for debugging in the console and for the browser tests
}

main();

