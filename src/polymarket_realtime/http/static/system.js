// System panel: health tiles and alerts, from the pushed system status and the activity feed.
import { clear, clock, h, fill, shortenIds } from "./dom.js";

const RECENT_TRADES_MS = 5 * 60 * 1000;
const STALE_S = 30;
const ALERT_KINDS = new Set(["alert", "risk_halt", "agent_error"]);

function tile(label, value, detail, level) {
  return h("div", { class: `tile ${level || ""}`, role: "group", "aria-label": label },
    h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "detail", title: detail }, detail));
}

function marketFeed(state) {
  const sys = state.system || {};
  const conns = (sys.feed && sys.feed.connections) || {};
  return conns.market || null;
}

function freshness(state) {
  const m = marketFeed(state);
  if (!m || m.last_message_age_s === null || m.last_message_age_s === undefined) return null;
  return m.last_message_age_s + (Date.now() - state.systemAt) / 1000;
}

export function recentTrades(state) {
  const since = Date.now() - RECENT_TRADES_MS;
  return state.activity.filter((e) => e.ts_ms >= since && (e.kind === "order_filled" || (e.kind === "order_placed" && (e.data || {}).fills > 0))).length;
}

export function renderTiles(state) {
  const box = document.getElementById("tiles");
  const sys = state.system;
  if (!sys) {
    fill(box, h("p", { class: "empty" }, "Waiting for the server’s status…"));
    return;
  }
  const m = marketFeed(state);
  const age = freshness(state);
  const stats = (sys.feed && sys.feed.statistics) || {};
  const sessions = sys.sessions || {};
  const agents = sys.agents || {};
  const subs = sys.subscriptions || {};
  let feedLevel = "warn", feedValue = "no feed", feedDetail = "";
  if (m) {
    feedValue = m.state;
    const idle = m.state === "idle" || !m.assets;
    feedLevel = m.state === "connected" ? (age !== null && age > STALE_S ? "warn" : "ok") : idle ? "" : "err";
    feedDetail = idle && m.state !== "connected"
      ? "no tokens subscribed"
      : `${m.assets} token${m.assets === 1 ? "" : "s"} · last data ${age === null ? "–" : `${age.toFixed(1)}s ago`} · ${m.reconnects} reconnects`;
  }
  const conns = (sys.feed && sys.feed.connections) || {};
  const others = ["user", "rtds"].filter((k) => conns[k] && conns[k].state !== "idle").map((k) => `${k} ${conns[k].state}`);
  if (others.length) feedDetail = `${feedDetail}${feedDetail ? " · " : ""}${others.join(" · ")}`;
  const drops = (stats.dropped_events || 0) + (subs.sink_dropped || 0) + ((sys.websocket || {}).dropped_clients || 0);
  const trades = recentTrades(state);
  const storage = sys.storage || {};
  fill(box, 
    tile("Market feed", feedValue, feedDetail, feedLevel),
    tile("Events / s", (stats.events_per_s ?? 0).toFixed(1), `${stats.total_events ?? 0} events since start`, "ok"),
    tile("Active agents", String(agents.running ?? 0), `${agents.stopped ?? 0} stopped · ${agents.error ?? 0} error`, agents.error ? "err" : agents.running ? "ok" : ""),
    tile("Active sessions", String(sessions.running ?? 0), `${sessions.paused ?? 0} paused · ${sessions.halted ?? 0} halted · ${sessions.stopped ?? 0} stopped`, sessions.halted ? "warn" : sessions.running ? "ok" : ""),
    tile("Recent trades", String(trades), "paper fills in the last 5 min", trades ? "ok" : ""),
    tile("Drops", String(drops), `feed ${stats.dropped_events || 0} · slow sinks ${subs.sink_dropped || 0}`, drops ? "warn" : "ok"),
    tile("Storage", storage.ok === false ? "failing" : "ok", storage.size ? `${(storage.size.total_bytes / 1048576).toFixed(1)} MB` : "", storage.ok === false ? "err" : "ok"),
  );
}

export function renderAlerts(state) {
  const box = document.getElementById("alerts");
  const items = [];
  const sys = state.system;
  if (sys) {
    if (sys.switch === "stopped") items.push(["err", null, "System stopped: agents are halted and running sessions paused. “Start system” restores them."]);
    const m = marketFeed(state);
    if (m && m.assets && m.state !== "connected") items.push(["err", null, `Market feed ${m.state}${m.last_error ? `: ${m.last_error}` : ""}`]);
    const age = freshness(state);
    if (m && m.state === "connected" && m.assets && age !== null && age > STALE_S) items.push(["warn", null, `Market data is stale: nothing for ${age.toFixed(0)} s.`]);
    if (sys.storage && sys.storage.ok === false) items.push(["err", null, "Storage check failing: see get_system_status."]);
  }
  for (const a of state.agents.values()) if (a.state === "error") items.push(["err", a.last_active_ms, `Agent ${a.agent_id} failed: ${a.state_reason}`]);
  for (const s of state.sessions.values()) if (s.state === "halted") items.push(["warn", null, `Session ${s.name} halted: ${s.state_reason}`]);
  const cutoff = Date.now() - 120000;
  state.gaps = state.gaps.filter((g) => g.at > cutoff);
  if (state.gaps.length) {
    // One line per reconnect, not per channel (a server restart gaps every channel at once).
    const channels = [...new Set(state.gaps.map((g) => g.channel.split(":")[0]))];
    const last = state.gaps[state.gaps.length - 1];
    items.push(["warn", last.at, `Some updates were missed while disconnected (${channels.join(", ")}); the page reloaded the current state.`]);
  }
  const recent = state.activity.filter((e) => ALERT_KINDS.has(e.kind)).slice(-5).reverse();
  for (const e of recent) items.push([e.kind === "alert" ? "warn" : "err", e.ts_ms, e.message]);
  const key = JSON.stringify(items);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  clear(box);
  if (!items.length) box.append(h("li", { class: "empty" }, "No alerts."));
  for (const [level, ts, text] of items) box.append(h("li", { class: level }, ts ? h("time", {}, clock(ts)) : null, h("span", { title: text }, shortenIds(text))));
}
