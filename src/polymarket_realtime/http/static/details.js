// Session details: summary, live equity chart, positions, open orders, fills, an order form and the
// session's command stream (/ws/sessions/<id>).
import { api, showToast } from "./api.js";
import { pnlPct } from "./cards.js";
import { equityChart } from "./chart.js";
import { clear, clock, h, money, pct, price, renderOnce, shortId, fill } from "./dom.js";

/** One line for a command of the session stream (data shapes: docs/http-api.md). */
function describeCommand(kind, d) {
  const tok = d.token_id ? ` ${shortId(d.token_id)}` : "";
  if (kind === "order_intent") return `agent ${d.agent_id} wants ${d.side} ${d.size}${tok}`;
  if (kind === "order_filled") return `${d.side} ${d.size} @ ${d.price}${tok} (${d.liquidity || "fill"})`;
  if (kind.startsWith("order_")) return `${d.side || ""} ${d.size || ""} ${d.order_type || ""}${tok}: ${d.status || ""}${d.filled ? `, filled ${d.filled}` : ""}`.trim();
  if (kind === "state_changed" || kind === "risk_halt") return `${d.from} → ${d.to}: ${d.reason || ""}`;
  return JSON.stringify(d);
}

export class SessionDetails {
  constructor(state) {
    this.state = state;
    this.id = null;
    this.dialog = document.getElementById("session-dialog");
    this.onClose = null;
    this.stream = null;
    this.dialog.addEventListener("close", () => {
      this.id = null;
      this.closeStream();
      if (this.onClose) this.onClose();
    });
    document.getElementById("order-form").addEventListener("submit", (ev) => this.placeOrder(ev));
  }

  open(id) {
    if (this.id === id && this.dialog.open) return;
    this.id = id;
    fill(document.getElementById("sd-commands"), h("li", { class: "empty" }, "Commands for this session (agent intents, orders, fills, state changes) stream here."));
    document.getElementById("sd-actions").dataset.key = "";
    document.getElementById("order-form").dataset.key = "";
    if (!this.dialog.open) this.dialog.showModal();
    this.openStream(id);
    this.render();
    this.seedEquity(id);
  }

  /** Merge the saved equity snapshots (one per fill) under the live points, so the chart starts with history. */
  async seedEquity(id) {
    let saved;
    try {
      saved = await api(`api/sessions/${encodeURIComponent(id)}/equity?limit=500`);
    } catch {
      return; // the live points still draw; history is a nicety
    }
    const live = this.state.equity.get(id) || [];
    const firstLive = live.length ? live[0].t : Infinity;
    const past = (saved.points || [])
      .map((p) => ({ t: p.ts_ms, v: parseFloat(p.equity) }))
      .filter((p) => Number.isFinite(p.v) && p.t < firstLive);
    if (!past.length) return;
    this.state.equity.set(id, [...past, ...live]);
    if (this.id === id) this.render();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  openStream(id, since = null, attempt = 0, epoch = null) {
    this.closeStream();
    const url = new URL(`ws/sessions/${encodeURIComponent(id)}`, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const token = new URLSearchParams(location.search).get("token");
    if (token) url.searchParams.set("token", token);
    if (since !== null) url.searchParams.set("since", String(since)); // replay what is still buffered
    if (since !== null && epoch) url.searchParams.set("epoch", epoch); // another server process: gap + replay
    const ws = new WebSocket(url);
    this.stream = ws;
    // The seq to resume from next time. No de-duplication against it: after a server restart seqs start
    // over, and the server only replays what follows `since` anyway.
    let lastSeq = since;
    let lastEpoch = epoch;
    const list = document.getElementById("sd-commands");
    ws.onopen = () => { attempt = 0; };
    ws.onclose = (ev) => {
      if (this.stream !== ws) return; // we closed it
      this.stream = null;
      const gone = ev.code === 4404; // unknown session: nothing to retry
      list.append(h("li", { class: "empty" }, `Command stream closed${ev.reason ? `: ${ev.reason}` : ""}${gone ? "." : "; reconnecting…"}`));
      if (gone || this.id !== id) return;
      const delay = Math.min(8000, 500 * 2 ** attempt);
      this.retry = setTimeout(() => { if (this.id === id && this.dialog.open) this.openStream(id, lastSeq, attempt + 1, lastEpoch); }, delay);
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (typeof msg.epoch === "string") lastEpoch = msg.epoch;
      if (msg.type === "gap") lastSeq = msg.to_seq; // the replay that follows starts after it
      if (msg.type !== "command") return;
      lastSeq = msg.seq;
      list.querySelector(":scope > .empty")?.remove();
      list.append(h("li", {},
        h("span", { class: "sev sev-info" }), h("time", {}, clock(msg.ts)),
        h("span", {}, h("span", { class: "kind" }, `#${msg.seq} ${String(msg.kind).replaceAll("_", " ")}`)),
        h("span", { class: "msg small", title: JSON.stringify(msg.data) }, describeCommand(msg.kind, msg.data || {}))));
      while (list.children.length > 200) list.firstElementChild.remove();
      list.scrollTop = list.scrollHeight;
    };
  }

  closeStream() {
    clearTimeout(this.retry);
    const ws = this.stream;
    this.stream = null;
    if (ws) { ws.onmessage = null; ws.close(); }
  }

  render() {
    if (!this.id || !this.dialog.open) return;
    const s = this.state.sessions.get(this.id);
    const title = document.getElementById("sd-title");
    if (!s) { title.textContent = `Session ${this.id} (not found)`; return; }
    title.textContent = `Session ${s.name}`;
    const pill = document.getElementById("sd-state");
    pill.textContent = s.state;
    pill.className = `pill st-${s.state}`;
    const allowed = s.allowed_actions || [];
    renderOnce(document.getElementById("sd-actions"), `${s.name}|${allowed.join(",")}`, () =>
      ["pause", "resume", "stop"].filter((a) => allowed.includes(a)).map((a) =>
        h("button", {
          type: "button", class: `btn btn-sm${a === "stop" ? " btn-danger" : ""}`,
          "aria-label": `${a[0].toUpperCase()}${a.slice(1)} session ${s.name}`,
          onclick: () => api(`api/sessions/${encodeURIComponent(s.session_id)}/${a}`, { method: "POST" }).catch((e) => showToast(e.message)),
        }, a[0].toUpperCase() + a.slice(1))));
    const kv = (k, v) => h("div", {}, h("div", { class: "k" }, k), h("div", { class: "v" }, v));
    fill(document.getElementById("sd-summary"), 
      kv("Equity", `$${money(s.equity)}`), kv("P&L", pct(pnlPct(s))), kv("Cash", `$${money(s.cash)}`),
      kv("Starting cash", `$${money(s.starting_cash)}`), kv("Realized", money(s.realized_pnl)), kv("Unrealized", money(s.unrealized_pnl)),
      kv("Fees paid", money(s.fees_paid)), kv("Peak equity", `$${money(s.peak_equity)}`), kv("State", `${s.state}: ${s.state_reason}`),
      kv("Risk", Object.entries(s.risk || {}).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`).join(", ") || "no limits"),
    );
    equityChart(document.getElementById("sd-chart"), this.state.equity.get(s.session_id) || [], parseFloat(s.starting_cash));
    document.getElementById("sd-chart").setAttribute("aria-label", `Equity of session ${s.name} over time, now $${money(s.equity)}`);
    const rows = (id, items, cols, make) => {
      const body = clear(document.getElementById(id));
      if (!items.length) body.append(h("tr", { class: "empty" }, h("td", { colspan: cols }, "None.")));
      items.forEach((x) => body.append(make(x)));
    };
    rows("sd-positions", s.positions || [], 7, (p) => h("tr", {},
      h("td", { class: "tok mono", title: p.token_id }, shortId(p.token_id)), h("td", { class: "num" }, p.size), h("td", { class: "num", title: p.average_price }, price(p.average_price)),
      h("td", { class: "num" }, p.mark ?? "–"), h("td", { class: "num" }, money(p.market_value)), h("td", { class: "num" }, money(p.realized_pnl)), h("td", { class: "num" }, money(p.unrealized_pnl))));
    const orders = s.orders || [];
    const ordersBody = document.getElementById("sd-orders");
    renderOnce(ordersBody, JSON.stringify(orders.map((o) => [o.order_id, o.filled, o.status])), () => orders.length
      ? orders.map((o) => h("tr", {},
        h("td", { class: "mono" }, o.order_id), h("td", {}, o.side), h("td", {}, o.order_type), h("td", { class: "num" }, o.size),
        h("td", { class: "num" }, o.limit_price ?? "–"), h("td", { class: "num" }, o.filled),
        h("td", {}, h("button", { type: "button", class: "btn btn-sm", "aria-label": `Cancel order ${o.order_id} of session ${s.name}`,
          onclick: () => api(`api/sessions/${encodeURIComponent(s.session_id)}/orders/${encodeURIComponent(o.order_id)}/cancel`, { method: "POST" }).catch((e) => showToast(e.message)) }, "Cancel"))))
      : h("tr", { class: "empty" }, h("td", { colspan: 7 }, "None.")));
    rows("sd-fills", s.recent_fills || [], 7, (f) => h("tr", {},
      h("td", {}, clock(f.ts_ms)), h("td", {}, f.side), h("td", { class: "tok mono", title: f.token_id }, shortId(f.token_id)),
      h("td", { class: "num" }, f.price), h("td", { class: "num" }, f.size), h("td", { class: "num" }, f.fee), h("td", {}, f.liquidity)));
    const form = document.getElementById("order-form");
    const select = form.elements.token_id;
    renderOnce(select, (s.token_ids || []).join(","), () => (s.token_ids || []).map((t) => h("option", { value: t }, shortId(t, 10, 6))));
    document.getElementById("order-submit").setAttribute("aria-label", `Place order in session ${s.name}`);
    form.hidden = s.state === "stopped";
  }

  async placeOrder(ev) {
    ev.preventDefault();
    if (!this.id) return;
    const f = ev.currentTarget.elements;
    const body = { token_id: f.token_id.value, side: f.side.value, size: f.size.value, order_type: f.order_type.value };
    if (f.order_type.value === "limit") body.limit_price = f.limit_price.value;
    try {
      const res = await api(`api/sessions/${encodeURIComponent(this.id)}/orders`, { method: "POST", body });
      showToast(res && res.message ? res.message : "Order placed", "ok");
    } catch (err) {
      showToast(`Order refused: ${err.message}`);
    }
  }
}
