// Activity feed: live rows, filters by kind and severity, auto-scroll that yields when the reader scrolls up.
import { clear, clock, h, fill, shortenIds } from "./dom.js";

const ERROR_KINDS = new Set(["risk_halt", "agent_error", "system_error"]);
const WARNING_KINDS = new Set(["alert", "session_paused", "session_stopped", "agent_stopped", "agent_finished", "order_cancelled", "system_stopped", "position_settled"]);
const RANK = { info: 0, warning: 1, error: 2 };

export function severity(e) {
  if (e.severity) return e.severity;
  if (ERROR_KINDS.has(e.kind) || /error|fail/.test(e.kind)) return "error";
  if (WARNING_KINDS.has(e.kind) || /halt|stop/.test(e.kind)) return "warning";
  return "info";
}

export class ActivityView {
  constructor(state, openSubject) {
    this.state = state;
    this.openSubject = openSubject;
    this.list = document.getElementById("activity-list");
    this.kind = document.getElementById("activity-kind");
    this.sev = document.getElementById("activity-severity");
    this.follow = document.getElementById("activity-follow");
    this.kinds = new Set();
    this.shownUpTo = -1;
    this.filterKey = "";
  }

  setup() {
    const rerender = () => { this.filterKey = ""; this.render(); };
    this.kind.addEventListener("change", rerender);
    this.sev.addEventListener("change", rerender);
    this.follow.addEventListener("change", () => this.scroll());
    this.list.addEventListener("scroll", () => {
      const atEnd = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 24;
      if (!this.programmatic) this.follow.checked = atEnd;
    });
  }

  matches(e) {
    const kind = this.kind.value;
    const min = this.sev.value;
    return (!kind || e.kind === kind) && (!min || RANK[severity(e)] >= RANK[min]);
  }

  subjectLink(e) {
    const s = this.state.sessions.get(e.subject);
    const a = this.state.agents.get(e.subject);
    if (!s && !a && !/^(ps|ag)-/.test(e.subject || "")) return h("span", { class: "subj muted" }, e.subject || "");
    const isSession = s || (!a && e.subject.startsWith("ps-"));
    const label = isSession ? `session ${s ? s.name : e.subject}` : `agent ${e.subject}`;
    const href = isSession ? `#session/${encodeURIComponent(e.subject)}` : `#agent/${encodeURIComponent(e.subject)}/logs`;
    // A row can arrive before its session's view: the id shows until refreshNames() learns the name.
    return h("a", { class: "subj", href, "aria-label": `Open ${label}`, dataset: { subject: e.subject, pending: isSession && !s ? "1" : undefined } }, s ? s.name : e.subject);
  }

  refreshNames() {
    for (const a of this.list.querySelectorAll("a.subj[data-pending]")) {
      const s = this.state.sessions.get(a.dataset.subject);
      if (!s) continue;
      a.textContent = s.name;
      a.setAttribute("aria-label", `Open session ${s.name}`);
      delete a.dataset.pending;
    }
  }

  row(e) {
    const sev = severity(e);
    return h("li", { dataset: { seq: e.seq, kind: e.kind, severity: sev } },
      h("span", { class: `sev sev-${sev}`, title: sev, role: "img", "aria-label": sev }),
      h("time", { datetime: new Date(e.ts_ms).toISOString() }, clock(e.ts_ms)),
      h("span", {}, h("span", { class: "kind" }, e.kind.replaceAll("_", " ")), " ", this.subjectLink(e)),
      h("span", { class: "msg", title: e.message }, shortenIds(e.message)));
  }

  updateKinds() {
    let added = false;
    for (const e of this.state.activity) if (!this.kinds.has(e.kind)) { this.kinds.add(e.kind); added = true; }
    if (!added) return;
    const current = this.kind.value;
    fill(this.kind, h("option", { value: "" }, "All kinds"), ...[...this.kinds].sort().map((k) => h("option", { value: k }, k.replaceAll("_", " "))));
    this.kind.value = current;
  }

  render() {
    this.updateKinds();
    const entries = this.state.activity;
    const key = `${this.kind.value}|${this.sev.value}`;
    const lastSeq = entries.length ? entries[entries.length - 1].seq : -1;
    if (key !== this.filterKey || lastSeq < this.shownUpTo) {
      // Filters changed, or the server restarted (seqs went back): rebuild.
      this.filterKey = key;
      clear(this.list);
      this.shownUpTo = -1;
    }
    const fresh = entries.filter((e) => e.seq > this.shownUpTo && this.matches(e));
    this.list.querySelector(":scope > .empty")?.remove();
    for (const e of fresh) this.list.append(this.row(e));
    while (this.list.children.length > 500) this.list.firstElementChild.remove();
    if (entries.length) this.shownUpTo = lastSeq;
    if (!this.list.children.length) {
      this.list.append(h("li", { class: "empty" }, entries.length ? "No activity matches these filters." : "Nothing has happened yet."));
    }
    this.scroll();
  }

  scroll() {
    if (!this.follow.checked) return;
    this.programmatic = true;
    this.list.scrollTop = this.list.scrollHeight;
    requestAnimationFrame(() => { this.programmatic = false; });
  }
}
