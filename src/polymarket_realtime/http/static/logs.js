// Live log viewer of one agent: the logs:<agent_id> channel, filtered by minimum level and keyword.
import { clear, clock, h, fill } from "./dom.js";

const RANK = { debug: 0, info: 1, warning: 2, error: 3 };

export class LogViewer {
  constructor(state, onChange) {
    this.state = state;
    this.onChange = onChange;
    this.agentId = null;
    this.dialog = document.getElementById("log-dialog");
    this.pre = document.getElementById("lg-lines");
    this.level = document.getElementById("lg-level");
    this.contains = document.getElementById("lg-contains");
    this.follow = document.getElementById("lg-follow");
    this.download = document.getElementById("lg-download");
    this.count = document.getElementById("lg-count");
    this.onClose = null;
    const rerender = () => { this.key = null; this.render(); };
    this.level.addEventListener("change", rerender);
    this.contains.addEventListener("input", rerender);
    this.dialog.addEventListener("close", () => {
      this.agentId = null;
      this.onChange();
      if (this.onClose) this.onClose();
    });
  }

  open(agentId) {
    if (this.agentId === agentId && this.dialog.open) return;
    this.agentId = agentId;
    this.key = null;
    const a = this.state.agents.get(agentId);
    document.getElementById("lg-title").textContent = `Logs of agent ${agentId}${a ? ` (${a.kind})` : ""}`;
    this.download.href = `api/agents/${encodeURIComponent(agentId)}/logs/download`;
    this.download.setAttribute("aria-label", `Download the log of agent ${agentId}`);
    this.download.setAttribute("download", `${agentId}.log`);
    if (!this.dialog.open) this.dialog.showModal();
    this.render();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  render() {
    if (!this.agentId || !this.dialog.open) return;
    const lines = this.state.logs.get(this.agentId) || [];
    const min = RANK[this.level.value] ?? 0;
    const needle = this.contains.value.trim().toLowerCase();
    const shown = lines.filter((l) => (RANK[l.level] ?? 1) >= min && (!needle || l.message.toLowerCase().includes(needle)));
    const key = `${this.level.value}|${needle}|${lines.length}|${lines.length ? lines[lines.length - 1].ts : 0}`;
    if (key === this.key) return;
    this.key = key;
    fill(this.pre, ...shown.map((l) => h("div", { class: `lv-${l.level}` },
      h("span", { class: "ts" }, `${clock(l.ts)} ${String(l.level).toUpperCase().padEnd(7)} `), l.message)));
    if (!shown.length) this.pre.append(h("div", { class: "muted" }, lines.length ? "No line matches these filters." : "No log lines yet: they stream in live."));
    this.count.textContent = `${shown.length} of ${lines.length} lines (live; the download holds the whole log)`;
    if (this.follow.checked) this.pre.scrollTop = this.pre.scrollHeight;
  }
}
