// Agent and session cards, and the SVG edges from a strategy agent to the session it trades.
// Cards are keyed by id and updated in place; buttons are rebuilt only when what they do changes.
import { sparkline } from "./chart.js";
import { ago, clear, clock, duration, h, money, num, pct, renderOnce, shortId, svg, fill, shortenIds } from "./dom.js";

const STATE_ORDER = { running: 0, halted: 1, paused: 2, error: 3, stopped: 4 };
const KIND_LABEL = { market_scanner: "Scanner", price_alert: "Price alert", strategy: "Strategy" };

export function sessionName(state, id) {
  const s = state.sessions.get(id);
  return s ? s.name : id;
}

export function agentName(a) {
  return a.name || a.agent_id;
}

function ordered(map, state) {
  return [...map.values()].sort((a, b) => {
    const d = (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9);
    if (d) return d;
    const ida = a.session_id && !a.agent_id ? a.session_id : a.agent_id;
    const idb = b.session_id && !b.agent_id ? b.session_id : b.agent_id;
    return (a.created_ms || state.firstSeen.get(ida) || 0) - (b.created_ms || state.firstSeen.get(idb) || 0);
  });
}

function keyedList(container, items, idOf, make, update) {
  const empty = container.querySelector(":scope > .empty");
  if (empty) empty.hidden = items.length > 0;
  const existing = new Map([...container.querySelectorAll(":scope > .card")].map((el) => [el.dataset.id, el]));
  let prev = null;
  for (const item of items) {
    const id = idOf(item);
    let el = existing.get(id);
    if (!el) el = make(item);
    existing.delete(id);
    update(el, item);
    const want = prev ? prev.nextElementSibling : container.querySelector(":scope > .card");
    if (want !== el) container.insertBefore(el, prev ? prev.nextSibling : container.querySelector(":scope > .card"));
    prev = el;
  }
  for (const el of existing.values()) el.remove();
}

// ---- sessions --------------------------------------------------------------------------------------------

export function pnlPct(s) {
  const start = num(s.starting_cash), eq = num(s.equity);
  if (start && eq !== null) return ((eq - start) / start) * 100;
  return null;
}

function tradeCount(s) {
  for (const k of ["trades", "fill_count", "fills_count"]) if (Number.isInteger(s[k])) return String(s[k]);
  const n = (s.recent_fills || []).length;
  return n >= 20 ? `${n}+` : String(n);
}

function createdMs(state, s) {
  if (s.created_ms) return s.created_ms;
  const created = state.activity.find((e) => e.kind === "session_created" && e.subject === s.session_id);
  return created ? created.ts_ms : state.firstSeen.get(s.session_id);
}

export function renderSessions(state, handlers) {
  const box = document.getElementById("sessions");
  const list = ordered(state.sessions, state);
  const counts = {};
  list.forEach((s) => { counts[s.state] = (counts[s.state] || 0) + 1; });
  document.getElementById("sessions-count").textContent = list.length
    ? Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(" · ")
    : "";
  keyedList(
    box, list, (s) => s.session_id,
    (s) => {
      const el = h("article", { class: "card session-card", id: `session-${s.session_id}`, dataset: { id: s.session_id, sessionId: s.session_id } },
        h("div", { class: "card-body" }), h("div", { class: "actions" }));
      if (state.justCreated === s.session_id) {
        el.classList.add("flash");
        setTimeout(() => el.classList.remove("flash"), 1500);
      }
      return el;
    },
    (el, s) => updateSessionCard(state, el, s, handlers),
  );
}

function updateSessionCard(state, el, s, handlers) {
  el.className = `card session-card s-${s.state}${el.classList.contains("flash") ? " flash" : ""}`;
  el.setAttribute("aria-label", `Session ${s.name}`);
  const p = pnlPct(s);
  const created = createdMs(state, s);
  const pts = (state.equity.get(s.session_id) || []).slice(-60).map((x) => x.v);
  const body = el.querySelector(".card-body");
  fill(body, 
    h("div", { class: "card-head" },
      h("span", { class: "card-title" }, s.name),
      h("span", { class: `pill st-${s.state}`, "data-field": "state" }, s.state),
      h("span", { class: "spacer" }),
      h("span", { class: `big ${p > 0 ? "pnl-pos" : p < 0 ? "pnl-neg" : ""}`, "data-field": "pnl", title: "P&L since start" }, pct(p))),
    h("div", { class: "card-sub" }, `${s.session_id} · age `, h("span", { "data-age": created || "" }, created ? duration(Date.now() - created) : "–")),
    s.state !== "running" || (s.state_reason && s.state_reason !== "created")
      ? h("div", { class: "card-sub", "data-field": "reason" }, `${s.state}: ${s.state_reason || "–"}`)
      : null,
    h("div", { class: "meta" },
      h("span", {}, "Equity ", h("b", {}, `$${money(s.equity)}`)),
      h("span", {}, "Cash ", h("b", {}, `$${money(s.cash)}`)),
      h("span", { "data-field": "trades" }, "Trades ", h("b", {}, tradeCount(s))),
      h("span", {}, "Open orders ", h("b", {}, s.open_orders ?? (s.orders || []).length)),
      h("span", {}, "Tokens ", h("b", {}, (s.token_ids || []).length))),
    lastFill(s),
    sparkline(pts),
  );
  const allowed = s.allowed_actions || [];
  renderOnce(el.querySelector(".actions"), `${s.name}|${allowed.join(",")}`, () => [
    h("button", { type: "button", class: "btn btn-sm", "aria-label": `Show details of session ${s.name}`, onclick: () => handlers.openSession(s.session_id) }, "Details"),
    ...["pause", "resume", "stop"].filter((a) => allowed.includes(a)).map((a) =>
      h("button", {
        type: "button", class: `btn btn-sm${a === "stop" ? " btn-danger" : ""}`,
        "aria-label": `${a[0].toUpperCase()}${a.slice(1)} session ${s.name}`,
        onclick: () => handlers.sessionAction(s, a),
      }, a[0].toUpperCase() + a.slice(1))),
  ]);
}

function lastFill(s) {
  const f = (s.recent_fills || [])[0];
  if (!f) return null;
  return h("div", { class: "card-sub", "data-field": "last-fill" },
    `Last fill ${clock(f.ts_ms)}: ${f.side} ${f.size} @ ${f.price} (${shortId(f.token_id)})`);
}

// ---- agents ----------------------------------------------------------------------------------------------

function agentTokens(a) {
  const c = a.config || {};
  if (c.token_id) return [c.token_id];
  return c.token_ids || [];
}

function agentMetrics(a) {
  const st = a.stats || {};
  const c = a.config || {};
  if (a.kind === "market_scanner") {
    const ranking = (st.ranking || []).slice(0, 3);
    return h("div", { class: "metrics" },
      `Preset ${st.preset || c.preset || "custom"} · ${st.observations ?? 0} observations`,
      ranking.length
        ? h("ol", {}, ranking.map((r) => h("li", {}, `${shortId(r.token_id)} score ${r.score} · spread ${r.spread ?? "–"} · mid ${r.mid ?? "–"}`)))
        : h("div", { class: "muted" }, "Ranking appears after the first book updates."));
  }
  if (a.kind === "price_alert") {
    const cond = c.move !== undefined && c.move !== null
      ? `move ${c.move} (${c.direction || "either"})`
      : `${st.condition || c.condition} ${st.level || c.price} (${c.source || "mid"})`;
    return h("div", { class: "metrics" }, `When ${cond} · last ${st.last_price ?? "–"} · fired ${st.fired ?? 0}×${c.repeat ? " (repeating)" : ""}`);
  }
  if (a.kind === "strategy") {
    return h("div", { class: "metrics" },
      `${st.strategy || c.strategy || "strategy"} · signals ${st.signals ?? 0} · orders ${st.orders ?? 0} · rejected ${st.rejected ?? 0} · position ${st.position ?? 0}`);
  }
  return h("div", { class: "metrics" }, JSON.stringify(st).slice(0, 160));
}

export function renderAgents(state, handlers) {
  const box = document.getElementById("agents");
  const list = ordered(state.agents, state);
  const running = list.filter((a) => a.state === "running").length;
  document.getElementById("agents-count").textContent = list.length ? `${running} running of ${list.length}` : "";
  keyedList(
    box, list, (a) => a.agent_id,
    (a) => h("article", { class: "card agent-card", id: `agent-${a.agent_id}`, dataset: { id: a.agent_id, agentId: a.agent_id } },
      h("div", { class: "card-body" }), h("div", { class: "actions" })),
    (el, a) => updateAgentCard(state, el, a, handlers),
  );
}

function updateAgentCard(state, el, a, handlers) {
  const name = agentName(a);
  el.className = `card agent-card s-${a.state}`;
  el.setAttribute("aria-label", `Agent ${name}`);
  if (a.session_id) el.dataset.session = a.session_id; else delete el.dataset.session;
  const tokens = agentTokens(a);
  const cnt = a.counters || {};
  const tail = (state.logs.get(a.agent_id) || []).slice(-3);
  const body = el.querySelector(".card-body");
  fill(body, 
    h("div", { class: "card-head" },
      h("span", { class: "card-title" }, `${KIND_LABEL[a.kind] || a.kind} · ${name}`),
      h("span", { class: "spacer" }),
      h("span", { class: `pill st-${a.state}` }, a.state)),
    h("div", { class: "card-sub", title: a.last_active_ms ? new Date(a.last_active_ms).toISOString() : "" },
      "Last active ", h("span", { "data-ago": a.last_active_ms || "" }, ago(a.last_active_ms)), " · ",
      tokens.length ? `Tokens: ${tokens.map((t) => shortId(t)).join(", ")}` : "Tokens: every subscribed token",
      a.state !== "running" ? ` · ${a.state_reason}` : ""),
    agentMetrics(a),
    h("div", { class: "meta" },
      h("span", {}, "Events ", h("b", {}, cnt.events ?? 0)),
      h("span", {}, "Dropped ", h("b", {}, cnt.dropped ?? 0)),
      h("span", {}, "Errors ", h("b", {}, cnt.errors ?? 0))),
    h("div", { class: "tail", "data-field": "tail", "aria-label": `Latest log lines of agent ${name}` },
      tail.length
        ? tail.map((l) => h("div", { class: `lv-${l.level}`, title: l.message }, `${clock(l.ts)} ${shortenIds(l.message)}`))
        : h("div", { class: "muted" }, "No log lines yet.")),
  );
  const sname = a.session_id ? sessionName(state, a.session_id) : null;
  renderOnce(el.querySelector(".actions"), `${name}|${a.state}|${sname}`, () => [
    h("button", { type: "button", class: "btn btn-sm", "aria-label": `View logs of agent ${name}`, onclick: () => handlers.openLogs(a.agent_id) }, "Logs"),
    a.state === "running"
      ? h("button", { type: "button", class: "btn btn-sm btn-danger", "aria-label": `Stop agent ${name}`, onclick: () => handlers.agentAction(a, "stop") }, "Stop")
      : h("button", { type: "button", class: "btn btn-sm", "aria-label": `Start agent ${name}`, onclick: () => handlers.agentAction(a, "start") }, "Start"),
    sname
      ? h("a", { class: "btn btn-sm", href: `#session/${encodeURIComponent(a.session_id)}`, "aria-label": `Open session ${sname} traded by agent ${name}` }, `trades → ${sname}`)
      : null,
  ]);
}

// ---- edges -------------------------------------------------------------------------------------------------

export function renderEdges() {
  const grid = document.getElementById("flow-grid");
  const layer = document.getElementById("flow-edges");
  clear(layer);
  if (getComputedStyle(layer).display === "none") return;
  const box = grid.getBoundingClientRect();
  for (const agent of grid.querySelectorAll(".agent-card[data-session]")) {
    const target = document.getElementById(`session-${agent.dataset.session}`);
    if (!target) continue;
    const a = agent.getBoundingClientRect(), s = target.getBoundingClientRect();
    const x1 = a.right - box.left, y1 = a.top + a.height / 2 - box.top;
    const x2 = s.left - box.left, y2 = s.top + Math.min(s.height / 2, 40) - box.top;
    const dx = Math.max(24, (x2 - x1) / 2);
    const active = agent.classList.contains("s-running") && target.classList.contains("s-running");
    layer.append(
      svg("path", { d: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`, class: active ? "active" : "" }),
      svg("circle", { cx: x2 - 3, cy: y2, r: 3.5 }),
    );
  }
}

new ResizeObserver(() => renderEdges()).observe(document.getElementById("flow-grid"));

/** Relative times tick once a second without rebuilding the cards (keeps text selection and hover). */
export function tickTimes() {
  const now = Date.now();
  for (const el of document.querySelectorAll("[data-age]")) if (el.dataset.age) el.textContent = duration(now - Number(el.dataset.age));
  for (const el of document.querySelectorAll("[data-ago]")) if (el.dataset.ago) el.textContent = ago(Number(el.dataset.ago), now);
}
