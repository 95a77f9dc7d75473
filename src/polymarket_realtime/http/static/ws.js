// The /ws connection: subscribe, per-channel seq tracking, heartbeat, reconnect with backoff.
//
// Protocol (docs/http-api.md): the client subscribes to channels, optionally with `since` = the last
// seq it saw per channel; the server answers with a snapshot per channel and/or replays missed events,
// says `gap` when its buffer no longer holds what was missed, and then pushes `event`s with a dense seq.
// A server restart resets every channel's seq: each frame carries the server process's `epoch`, which the
// client sends back with `since`; another epoch gets a gap and a snapshot, and a snapshot always wins.

const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const OFFLINE_AFTER = 6; // consecutive failed attempts before the badge says "offline" (it keeps trying)
const PING_EVERY_MS = 15000;
const PONG_TIMEOUT_MS = 10000;

export class Live {
  /**
   * @param {object} handlers  onSnapshot(channel, data, seq), onEvent(channel, data, seq), onGap(channel, from, to),
   *                           onStatus(state, detail), onError(msg), onOpen()
   */
  constructor(handlers) {
    this.h = handlers;
    this.ws = null;
    this.seq = new Map(); // channel -> last seq applied
    this.epoch = null; // the server process the seqs belong to (sent back with `since`)
    this.wanted = new Set(); // channels the page wants
    this.sent = new Set(); // channels subscribed on the current socket
    this.attempt = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongDeadline = null;
    this.state = "reconnecting";
    window.addEventListener("online", () => this.connectSoon(0));
    window.addEventListener("offline", () => {
      this.setState("offline", "the browser is offline");
      if (this.ws) this.ws.close(4000, "browser offline"); // dead anyway; the retry waits for "online"
    });
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const token = new URLSearchParams(location.search).get("token");
    const base = new URL("ws", location.href); // relative: works behind a path prefix too
    base.protocol = proto;
    if (token) base.searchParams.set("token", token);
    return base.toString();
  }

  setState(state, detail) {
    this.state = state;
    this.h.onStatus(state, detail || "");
  }

  start() {
    this.connect();
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.scheduleRetry(String(err));
      return;
    }
    this.ws = ws;
    this.sent = new Set();
    ws.onopen = () => {
      this.attempt = 0;
      this.subscribe([...this.wanted]);
      this.startHeartbeat();
      this.setState("live");
      if (this.h.onOpen) this.h.onOpen();
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      const reason = ev.reason || (ev.code === 1006 ? "connection lost" : `closed (${ev.code})`);
      this.scheduleRetry(reason, ev.code);
    };
    ws.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  scheduleRetry(reason, code) {
    this.attempt += 1;
    if (code === 4401 || code === 4403) {
      this.setState("offline", reason);
      if (this.h.onAuth) this.h.onAuth();
    } else if (!navigator.onLine || this.attempt > OFFLINE_AFTER) {
      this.setState("offline", reason);
      if (this.attempt === OFFLINE_AFTER + 1 && this.h.onAuth) this.h.onAuth(); // maybe the token is gone
    } else {
      this.setState("reconnecting", reason);
    }
    const base = BACKOFF_MS[Math.min(this.attempt - 1, BACKOFF_MS.length - 1)];
    const delay = base / 2 + Math.random() * base / 2; // jitter: many tabs do not reconnect in lockstep
    this.connectSoon(delay);
  }

  connectSoon(delay) {
    if (this.ws && this.ws.readyState <= 1) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (!this.ws || this.ws.readyState !== 1) return;
      this.send({ type: "ping" });
      clearTimeout(this.pongDeadline);
      // Any message proves the link is alive; only a silent socket is closed and retried.
      this.pongDeadline = setTimeout(() => this.ws && this.ws.close(4000, "no pong"), PONG_TIMEOUT_MS);
    }, PING_EVERY_MS);
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongDeadline);
  }

  send(msg) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  /** Declare the full set of channels the page wants; (un)subscribes the difference. */
  want(channels) {
    const next = new Set(channels);
    const add = [...next].filter((c) => !this.wanted.has(c));
    const drop = [...this.wanted].filter((c) => !next.has(c));
    this.wanted = next;
    if (add.length) this.subscribe(add);
    if (drop.length) {
      drop.forEach((c) => { this.sent.delete(c); this.seq.delete(c); });
      this.send({ type: "unsubscribe", channels: drop });
    }
  }

  subscribe(channels, { fresh = false } = {}) {
    if (!channels.length || !this.ws || this.ws.readyState !== 1) return;
    const since = {};
    for (const c of channels) {
      if (fresh) this.seq.delete(c);
      else if (this.seq.has(c)) since[c] = this.seq.get(c);
      this.sent.add(c);
    }
    const msg = { type: "subscribe", channels };
    if (fresh) msg.fresh = true; // already subscribed: the server sends the snapshot again
    if (Object.keys(since).length) {
      msg.since = since;
      if (this.epoch) msg.epoch = this.epoch;
    }
    this.send(msg);
  }

  onMessage(raw) {
    clearTimeout(this.pongDeadline);
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      return;
    }
    const ch = msg.channel;
    if (typeof msg.epoch === "string") this.epoch = msg.epoch;
    switch (msg.type) {
      case "snapshot":
        this.seq.set(ch, msg.seq);
        this.h.onSnapshot(ch, msg.data, msg.seq);
        break;
      case "event": {
        const last = this.seq.get(ch);
        if (last !== undefined && msg.seq <= last) return; // replay overlap
        this.seq.set(ch, msg.seq);
        this.h.onEvent(ch, msg.data, msg.seq);
        if (last !== undefined && msg.seq > last + 1) {
          // A hole the server did not announce: ask for the channel afresh (a snapshot comes back).
          this.h.onGap(ch, last + 1, msg.seq - 1);
          this.subscribe([ch], { fresh: true });
        }
        break;
      }
      case "gap":
        this.h.onGap(ch, msg.from_seq, msg.to_seq);
        break;
      case "pong":
        break;
      case "error":
        this.h.onError(msg);
        break;
      default:
        break;
    }
  }
}
