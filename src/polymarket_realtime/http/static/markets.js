// Market watch: the tokens of live sessions and running agents, with pushed best bid/ask and last trade.
import { clear, h, shortId } from "./dom.js";

/** token -> Set of labels (session names, agent kinds) for live sessions and running agents. */
export function watchedTokens(state) {
  const tokens = new Map();
  const add = (t, label) => {
    if (!t) return;
    if (!tokens.has(t)) tokens.set(t, new Set());
    tokens.get(t).add(label);
  };
  for (const s of state.sessions.values()) if (s.state !== "stopped") (s.token_ids || []).forEach((t) => add(t, s.name));
  for (const a of state.agents.values()) {
    if (a.state !== "running") continue;
    const c = a.config || {};
    add(c.token_id, a.kind);
    (c.token_ids || []).forEach((t) => add(t, a.kind));
  }
  return tokens;
}

export function renderMarkets(state) {
  const body = document.getElementById("market-rows");
  const tokens = watchedTokens(state);
  const fromSessions = new Map();
  for (const s of state.sessions.values()) for (const t of s.tokens || []) fromSessions.set(t.token_id, t);
  const rows = [...tokens.entries()].map(([token, labels]) => {
    const live = state.market.get(token);
    const d = live ? live.data : fromSessions.get(token) || {};
    const prev = live ? live.prev : null;
    return { token, labels: [...labels], d, prev };
  });
  const key = JSON.stringify(rows.map((r) => [r.token, r.labels, r.d.best_bid, r.d.best_ask, r.d.last_trade_price, r.d.stale]));
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  clear(body);
  if (!rows.length) {
    body.append(h("tr", { class: "empty" }, h("td", { colspan: 4 }, "No tokens watched: the tokens of running sessions and agents appear here.")));
    return;
  }
  for (const { token, labels, d, prev } of rows) {
    const cell = (field) => {
      const v = d[field];
      const p = prev ? prev[field] : undefined;
      const cls = p !== undefined && p !== null && v !== null && v !== undefined && v !== p ? (parseFloat(v) > parseFloat(p) ? "up" : "down") : "";
      return h("td", { class: `num ${cls}`, "data-field": field }, v ?? "–");
    };
    body.append(h("tr", { class: d.stale ? "stale-row" : "", dataset: { token } },
      h("td", { class: "tok", title: `${token} (${labels.join(", ")})` },
        h("span", { class: "mono" }, shortId(token, 8, 4)), h("div", { class: "muted small" }, labels.join(", "), d.stale ? " · stale" : "")),
      cell("best_bid"), cell("best_ask"), cell("last_trade_price")));
  }
}
