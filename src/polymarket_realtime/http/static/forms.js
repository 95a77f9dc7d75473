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
  await loadPresets();
}

/** Fill the preset select from the API (keeping `select` or the current choice when it still exists). */
async function loadPresets(select = null) {
  const form = document.getElementById("agent-form");
  try {
    setPresets(await api("api/presets"), select);
  } catch (err) {
    showError(form, `Could not load scanner presets: ${err.message}`);
  }
}

function setPresets(list, select = null) {
  presets = list;
  const p = document.getElementById("af-preset");
  const want = select || p.value;
  fill(p, ...Object.keys(presets.presets || {}).map((name) => h("option", { value: name }, name)));
  if (want && presets.presets[want]) p.value = want;
  showWeights();
}

const WEIGHTS = ["spread", "depth", "momentum", "volatility"];

async function savePreset() {
  const form = document.getElementById("agent-form");
  const name = document.getElementById("pe-name").value.trim();
  const weights = {};
  for (const k of WEIGHTS) {
    const v = document.getElementById(`pe-${k}`).value;
    if (v !== "") weights[k] = Number(v);
  }
  try {
    setPresets(await api("api/presets", { method: "POST", body: { name, weights } }), name);
    showError(form, "");
    showToast(`Preset ${name} saved`, "ok");
  } catch (err) {
    showError(form, `Preset not saved: ${err.message}`);
  }
}

async function deletePreset() {
  const form = document.getElementById("agent-form");
  const name = document.getElementById("af-preset").value;
  if (!name) return;
  try {
    setPresets(await api(`api/presets/${encodeURIComponent(name)}/delete`, { method: "POST" }));
    showError(form, "");
    showToast(`Preset ${name} deleted`, "ok");
  } catch (err) {
    showError(form, `Preset not deleted: ${err.message}`);
  }
}

function showWeights() {
  const name = document.getElementById("af-preset").value;
  const w = presets && presets.presets ? presets.presets[name] : null;
  document.getElementById("af-preset-weights").textContent = w
    ? `Weights: ${Object.entries(w).map(([k, v]) => `${k} ${v}`).join(", ")}`
    : "";
  const del = document.getElementById("pe-delete");
  del.disabled = !name;
  del.setAttribute("aria-label", name ? `Delete preset ${name}` : "Delete preset (none selected)");
  labelSave();
}

function labelSave() {
  const name = document.getElementById("pe-name").value.trim();
  document.getElementById("pe-save").setAttribute("aria-label", name ? `Save preset ${name} (scanner weights)` : "Save preset (scanner weights)");
}

function showKind() {
  const kind = document.getElementById("af-kind").value;
  for (const el of document.querySelectorAll("#agent-form [data-kind]")) el.hidden = el.dataset.kind !== kind;
}

export function setupForms(state, { onSession, onAgent }) {
  document.querySelectorAll(".token-picker").forEach(setupPicker);
  document.getElementById("af-kind").addEventListener("change", showKind);
  document.getElementById("af-preset").addEventListener("change", showWeights);
  document.getElementById("pe-save").addEventListener("click", savePreset);
  document.getElementById("pe-name").addEventListener("input", labelSave);
  document.getElementById("pe-delete").addEventListener("click", deletePreset);
  // Enter in the preset editor saves the preset rather than starting an agent.
  document.getElementById("af-preset-editor").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && ev.target.tagName === "INPUT") { ev.preventDefault(); savePreset(); }
  });
  showWeights();
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
