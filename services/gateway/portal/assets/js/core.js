// The portal's small toolkit: DOM building (never innerHTML with data), the API client
// (cookies hold the tokens; the CSRF header goes with every unsafe call), the language,
// formatting, and form helpers. Every page module builds on these.
import { STRINGS } from "./i18n.js";

// ---------------------------------------------------------------- language
const LANG_KEY = "procura.lang";
export let lang = pickLang();

function pickLang() {
  const stored = localStorage.getItem(LANG_KEY);
  if (stored === "fr" || stored === "en") return stored;
  return (navigator.language || "en").toLowerCase().startsWith("fr") ? "fr" : "en";
}

export function setLang(value) {
  lang = value === "fr" ? "fr" : "en";
  localStorage.setItem(LANG_KEY, lang);
  document.documentElement.lang = lang;
}

/** The text of `key` in the current language; `{name}` placeholders take `vars`. */
export function t(key, vars = {}) {
  const entry = STRINGS[key];
  let text = entry ? entry[lang === "fr" ? 1 : 0] : key;
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, String(v));
  return text;
}

/** A {en, fr} object from the API in the current language. */
export function localized(value) {
  if (value && typeof value === "object") return value[lang] || value.en || "";
  return value || "";
}

// ---------------------------------------------------------------- DOM
/** h("button", {type: "button", onclick: fn}, "text", child, [children]) */
export function h(tag, attrs, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.setAttribute("class", value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (!svg && key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

/** Say something to screen readers (and keep it visible in the page's status line). */
export function announce(text) {
  const live = document.getElementById("live");
  live.textContent = "";
  setTimeout(() => { live.textContent = text; }, 30);
}

// ---------------------------------------------------------------- formatting
export function money(m) {
  if (!m || m.amount === undefined || m.amount === null) return "—";
  try {
    return new Intl.NumberFormat(lang === "fr" ? "fr-CA" : "en-CA",
      { style: "currency", currency: m.currency || "CAD" }).format(Number(m.amount));
  } catch (e) {
    return `${m.amount} ${m.currency || ""}`;
  }
}

export function number(n) {
  return new Intl.NumberFormat(lang === "fr" ? "fr-CA" : "en-CA").format(Number(n));
}

export function date(value, withTime = false) {
  if (!value) return "—";
  const d = new Date(value.length === 10 ? value + "T00:00:00" : value);
  if (Number.isNaN(d.getTime())) return value;
  const opts = withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" };
  return new Intl.DateTimeFormat(lang === "fr" ? "fr-CA" : "en-CA", opts).format(d);
}

export const statusLabel = (s) => t(`status.${s}`);

// ---------------------------------------------------------------- API client
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.errors = (body && body.errors) || null;
    this.body = body;
  }
}

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

const csrfHeaders = () => ({ "X-CSRF-Token": cookie("procura_csrf") });
export const hasSession = () => Boolean(cookie("procura_csrf"));

let refreshing = null;
/** Trade the refresh cookie for a new pair (one at a time, shared by concurrent callers). */
export function refreshSession() {
  if (!refreshing) {
    refreshing = fetch("/portal/session/refresh", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", ...csrfHeaders() }, body: "{}",
    }).then((r) => r.ok).catch(() => false).finally(() => { refreshing = null; });
  }
  return refreshing;
}

export let onSignedOut = () => {};
export function setSignedOutHandler(fn) { onSignedOut = fn; }

/** Call the public API. Returns parsed JSON (or null for an empty reply); throws ApiError. */
export async function api(method, path, body, { headers = {}, retry = true, raw = false } = {}) {
  const init = {
    method, credentials: "same-origin",
    headers: { "Accept-Language": lang, Accept: "application/json", ...headers },
  };
  if (method !== "GET" && method !== "HEAD") Object.assign(init.headers, csrfHeaders());
  if (body !== undefined) {
    if (body instanceof FormData || body instanceof Blob || typeof body === "string") init.body = body;
    else { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  }
  const response = await fetch("/api/v1" + path, init);
  if (response.status === 401 && retry && hasSession()) {
    if (await refreshSession()) return api(method, path, body, { headers, retry: false, raw });
  }
  if (response.status === 401) {
    onSignedOut();
    throw new ApiError(401, await safeJson(response));
  }
  if (!response.ok) throw new ApiError(response.status, await safeJson(response));
  if (raw) return response;
  if (response.status === 204 || response.status === 202) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

async function safeJson(response) {
  try { return await response.json(); } catch (e) { return null; }
}

export const get = (path, query) => api("GET", path + qs(query));
export const post = (path, body, opts) => api("POST", path, body === undefined ? {} : body, opts);
export const patch = (path, body) => api("PATCH", path, body);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);

export function qs(query) {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "" && v !== false) params.set(k, String(v));
  }
  const s = params.toString();
  return s ? "?" + s : "";
}

export async function sessionCall(path, body) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "Accept-Language": lang, ...csrfHeaders() },
    body: JSON.stringify(body || {}),
  });
  if (!response.ok) throw new ApiError(response.status, await safeJson(response));
  return response.status === 204 ? null : response.json();
}

export const newKey = () => (crypto.randomUUID ? crypto.randomUUID()
  : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""));

// ---------------------------------------------------------------- page pieces
/** The message of an API error in the user's language, with field errors when any. */
export function errorText(err) {
  if (!(err instanceof ApiError)) return t("error.network");
  const known = STRINGS[`error.${err.code}`] ? t(`error.${err.code}`) : null;
  let text = known || err.message || t("error.generic");
  if (err.errors && typeof err.errors === "object") {
    const parts = flattenErrors(err.errors);
    if (parts.length) text += " " + parts.join("; ");
  }
  return text;
}

function flattenErrors(errors, prefix = "") {
  const out = [];
  for (const [k, v] of Object.entries(errors)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) out.push(`${name}: ${v.join(" ")}`);
    else if (v && typeof v === "object") out.push(...flattenErrors(v, name));
  }
  return out;
}

/** A message box; `kind` is "error", "ok" or "info". Errors are announced (role=alert). */
export function notice(kind, text) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A labelled field. `control` defaults to an <input>; the label is always tied to it. */
export function field(label, attrs = {}, { hint, control = "input", options, wrapClass } = {}) {
  const id = attrs.id || nextId();
  let input;
  if (control === "select") {
    input = h("select", { ...attrs, id }, (options || []).map(([value, text]) =>
      h("option", { value, selected: String(attrs.value ?? "") === String(value) || null }, text)));
  } else if (control === "textarea") {
    const { value, ...rest } = attrs;
    input = h("textarea", { ...rest, id }, value || "");
  } else {
    input = h("input", { type: "text", ...attrs, id });
  }
  const hintId = hint ? id + "-hint" : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h("div", { class: wrapClass || "field" },
    h("label", { for: id }, label),
    input, hint ? h("p", { class: "hint", id: hintId }, hint) : null);
}

export function checkbox(label, attrs = {}) {
  const id = attrs.id || nextId();
  return h("div", { class: "check" }, h("input", { type: "checkbox", ...attrs, id }),
    h("label", { for: id }, label));
}

/** Busy state on a form's submit button while `work` runs; errors shown in `out`. */
export async function busy(button, out, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (out) clear(out);
  try {
    return await work();
  } catch (err) {
    if (out) { clear(out, notice("error", errorText(err))); out.querySelector("p")?.focus?.(); }
    else announce(errorText(err));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** A simple table: columns [{label, cell: (row) => node|text, num?: bool}] */
export function table(caption, columns, rows, { empty } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty || t("common.none"));
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h("table", {},
      h("caption", { class: "sr-only" }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) =>
        h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c, i) => {
        const content = c.cell(row);
        return i === 0 && c.rowHeader !== false
          ? h("th", { scope: "row", class: c.num ? "num" : null }, content)
          : h("td", { class: c.num ? "num" : null }, content);
      }))))));
}

export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

export function pageTitle(text, ...extra) {
  document.title = `${text} · Procura`;
  return h("div", { class: "page-head" }, h("h1", { tabindex: "-1", id: "page-title" }, text), extra);
}

export function section(title, ...children) {
  const id = nextId("s");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), children);
}

export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "radio") { if (el.checked) out[el.name] = el.value; }
    else out[el.name] = el.value.trim();
  }
  return out;
}

export function splitList(text) {
  return (text || "").split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

export function ids(text) {
  return splitList(text).map(Number).filter((n) => Number.isInteger(n) && n > 0);
}
