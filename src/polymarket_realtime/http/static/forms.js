// The "New session" and "Start an agent" forms, with a market search that fills in token ids.
import { api, showToast } from "./api.js";
import { clear, h, fill } from "./dom.js";

function tokensOf(text) {
  return text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean);
}

function showError(form, message) {
  const p = form.querySelector(".form-error");
  p.textContent = message || "";
  p.hidden = !message;
}

function setupPicker(picker) {
  const input = picker.querySelector(".market-q");
  const results = picker.querySelector(".market-results");
  const target = document.getElementById(picker.dataset.target);
  let timer = null;
  let asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      const ticket = ++asked;
      if (q.length < 2) { clear(results); return; }
      try {
        const found = await api(`api/markets/search?q=${encodeURIComponent(q)}&limit=5`);
        if (ticket !== asked) return;
        clear(results);
        const markets = (found && found.markets) || [];
        if (!markets.length) results.append(h("li", { class: "muted" }, "No market matches."));
        for (const m of markets) {
          results.append(h("li", {}, h("div", {}, m.question),
            ...(m.outcomes || []).map((o) => h("button", {
              type: "button", class: "btn btn-sm", "aria-label": `Add the ${o.name} token of “${m.question}”`,
              onclick: () => {
                const have = tokensOf(target.value);
                if (!have.includes(o.token_id)) target.value = [...have, o.token_id].join("\n");
              },
            }, `+ ${o.name}${o.price ? ` ${o.price}` : ""}`))));
        }
      } catch (err) {
        fill(results, h("li", { class: "form-error" }, err.message));
      }
    }, 250);
  });
}

export function openSessionForm() {
  const dlg = document.getElementById("session-form-dialog");
  showError(document.getElementById("session-form"), "");
  dlg.showModal();
}

let presets = null;

export async function openAgentForm(state) {
  const dlg = document.getElementById("agent-form-dialog");
  const form = document.getElementById("agent-form");
  showError(form, "");
  const sessions = [...state.sessions.values()].filter((s) => s.state !== "stopped");
  const sel = document.getElementById("af-session");
  fill(sel, ...(sessions.length
    ? sessions.map((s) => h("option", { value: s.session_id }, `${s.name} (${s.session_id})`))
    : [h("option", { value: "" }, "no live session: create one first")]));
  dlg.showModal();
  try {
    presets = await api("api/presets");
    const p = document.getElementById("af-preset");
    const current = p.value;
    fill(p, ...Object.keys(presets.presets || {}).map((name) => h("option", { value: name }, name)));
    if (current && presets.presets[current]) p.value = current;
    showWeights();
  } catch (err) {
    showError(form, `Could not load scanner presets: ${err.message}`);
  }
}

function showWeights() {
  const name = document.getElementById("af-preset").value;
  const w = presets && presets.presets ? presets.presets[name] : null;
  document.getElementById("af-preset-weights").textContent = w
    ? `Weights: ${Object.entries(w).map(([k, v]) => `${k} ${v}`).join(", ")}`
    : "";
}

function showKind() {
  const kind = document.getElementById("af-kind").value;
  for (const el of document.querySelectorAll("#agent-form [data-kind]")) el.hidden = el.dataset.kind !== kind;
}

export function setupForms(state, { onSession, onAgent }) {
  document.querySelectorAll(".token-picker").forEach(setupPicker);
  document.getElementById("af-kind").addEventListener("change", showKind);
  document.getElementById("af-preset").addEventListener("change", showWeights);
  showKind();

  document.getElementById("session-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const f = form.elements;
    const risk = {};
    if (f.max_order_usd.value) risk.max_order_usd = f.max_order_usd.value;
    if (f.max_drawdown_pct.value) risk.max_drawdown_pct = f.max_drawdown_pct.value;
    const body = {
      name: f.name.value.trim(),
      starting_cash: f.starting_cash.value,
      token_ids: tokensOf(f.token_ids.value),
      market_ids: tokensOf(f.market_ids.value),
    };
    if (Object.keys(risk).length) body.risk = risk;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const view = await api("api/sessions", { method: "POST", body });
      onSession(view);
      form.reset();
      form.querySelectorAll(".market-results").forEach((ul) => clear(ul));
      document.getElementById("session-form-dialog").close();
      showToast(`Session ${view.name} created`, "ok");
    } catch (err) {
      showError(form, err.message);
    } finally {
      button.disabled = false;
    }
  });

  document.getElementById("agent-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    const f = form.elements;
    const kind = f.kind.value;
    const tokens = tokensOf(f.tokens.value);
    let config;
    let sessionId = null;
    if (kind === "market_scanner") {
      config = { preset: f.preset.value };
      if (tokens.length) config.token_ids = tokens;
    } else if (kind === "price_alert") {
      config = f.condition.value === "move"
        ? { token_id: tokens[0] || "", move: f.price.value, repeat: f.repeat.checked }
        : { token_id: tokens[0] || "", condition: f.condition.value, price: f.price.value, repeat: f.repeat.checked };
    } else {
      config = { token_id: tokens[0] || "", strategy: f.strategy.value, params: { order_size: f.order_size.value, threshold: f.threshold.value } };
      sessionId = f.session_id.value || null;
    }
    const body = { kind, config };
    if (sessionId) body.session_id = sessionId;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const view = await api("api/agents", { method: "POST", body });
      onAgent(view);
      form.querySelector("#af-tokens").value = "";
      form.querySelectorAll(".market-results").forEach((ul) => clear(ul));
      document.getElementById("agent-form-dialog").close();
      showToast(`Agent ${view.agent_id} started`, "ok");
    } catch (err) {
      showError(form, err.message);
    } finally {
      button.disabled = false;
    }
  });
}
