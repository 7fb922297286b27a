// DOM helpers. Data from requests and state only ever becomes text nodes or attribute values,
// never markup: nothing here parses HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

export function json(value) {
  return JSON.stringify(value, null, 2);
}

export function when(value) {
  if (value === null || value === undefined || value === "") return "—";
  const date = typeof value === "number" ? new Date(value) : new Date(String(value));
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

// Status messages for everyone (a live region) and errors that stay until the next action.
let noticeTimer = null;
export function notify(message, kind = "ok") {
  const box = document.getElementById("notice");
  if (!box) return;
  box.className = `notice ${kind}`;
  box.textContent = message;
  clearTimeout(noticeTimer);
  if (kind === "ok") noticeTimer = setTimeout(() => { box.textContent = ""; box.className = "notice"; }, 6000);
}

export function badge(text, kind) {
  return h("span", { class: `badge ${kind || text || ""}` }, text);
}

export function table(caption, headings, rows, empty = "Nothing to show.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows),
    ),
  );
}

export function formData(form) {
  const out = {};
  for (const [key, value] of new FormData(form).entries()) out[key] = typeof value === "string" ? value.trim() : value;
  return out;
}
