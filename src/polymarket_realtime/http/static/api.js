// JSON API calls (same-origin cookie; a ?token= in the address is sent as a bearer token too) and toasts.
import { h } from "./dom.js";

const urlToken = new URLSearchParams(location.search).get("token");

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (urlToken) headers.Authorization = `Bearer ${urlToken}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const text = await res.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch { /* plain text answer */ }
  if (!res.ok) {
    if (res.status === 401) document.getElementById("login-hint").hidden = false;
    const detail = data && typeof data === "object" ? data.detail || data.error : text;
    const err = new Error(detail || `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

export function showToast(message, kind = "error") {
  const box = document.getElementById("toasts");
  const t = h("div", { class: `toast ${kind === "ok" ? "ok" : ""}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === "ok" ? 3000 : 8000);
}
