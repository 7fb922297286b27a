// The request journal, live: polled while this view is open; every entry expands to its details.

import { admin } from "./api.js";
import { $, badge, h, json, notify, replace, when } from "./dom.js";

const POLL_MS = 1500;
const LIMIT = 500;
let entries = [];
let timer = null;
let lastSeen = "";
const expanded = new Set();

function filters() {
  const form = $("#journal-filters");
  return { vendor: form.elements.vendor.value, status: form.elements.status.value, q: form.elements.q.value.trim().toLowerCase() };
}

function matches(entry, f) {
  if (f.vendor === "none" ? entry.vendor !== null : f.vendor && entry.vendor !== f.vendor) return false;
  if (f.status === "dropped" ? !entry.dropped : f.status && String(entry.status ?? "").charAt(0) !== f.status) return false;
  if (f.q && ![entry.operation_id, entry.path].some((v) => String(v || "").toLowerCase().includes(f.q))) return false;
  return true;
}

function statusBadge(entry) {
  if (entry.dropped) return badge("dropped", "error");
  const kind = entry.status >= 500 ? "error" : entry.status >= 400 ? "warn" : "ok";
  return badge(String(entry.status), kind);
}

function list(items, emptyText) {
  return items && items.length ? h("ul", {}, items.map((item) => h("li", {}, item))) : h("span", { class: "muted" }, emptyText);
}

function details(entry) {
  const body = entry.request_body;
  const fields = [
    ["Query", entry.query ? h("code", {}, entry.query) : h("span", { class: "muted" }, "none")],
    ["Request headers", entry.request_headers ? h("pre", {}, json(entry.request_headers)) : h("span", { class: "muted" }, "not recorded")],
    ["Request body", body === null || body === undefined ? h("span", { class: "muted" }, "none") : h("pre", {}, typeof body === "string" ? body : json(body))],
    ["Validation errors", list(entry.validation_errors, "none")],
    ["Contract violations", list(entry.contract_violations, "none")],
    ["Nearest path", entry.nearest_path ? h("code", {}, entry.nearest_path) : h("span", { class: "muted" }, "—")],
    ["Fault", entry.fault_id !== null && entry.fault_id !== undefined ? `rule ${entry.fault_id}${entry.dropped ? " (connection dropped)" : ""}` : h("span", { class: "muted" }, "none")],
    ["Latency", `${entry.latency_ms} ms`],
  ];
  return h("dl", { class: "entry" }, fields.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function row(entry) {
  const open = expanded.has(entry.id);
  const id = `journal-entry-${entry.id}`;
  const toggle = h(
    "button",
    {
      type: "button",
      class: "toggle",
      "aria-expanded": open ? "true" : "false",
      "aria-controls": id,
      "aria-label": `Details of ${entry.method} ${entry.path}`,
      onclick: () => {
        if (expanded.has(entry.id)) expanded.delete(entry.id);
        else expanded.add(entry.id);
        render();
        document.querySelector(`[aria-controls="${id}"]`)?.focus();
      },
    },
    open ? "▾" : "▸",
  );
  const problems = (entry.validation_errors?.length || 0) + (entry.contract_violations?.length || 0);
  return [
    h(
      "tr",
      { class: problems ? "has-problems" : "" },
      h("td", {}, toggle),
      h("td", { class: "nowrap", title: entry.at }, when(entry.at).slice(11)),
      h("td", { class: "mono" }, entry.method),
      h("td", { class: "mono path" }, entry.path),
      h("td", {}, statusBadge(entry)),
      h("td", { class: "mono" }, entry.operation_id || h("span", { class: "muted" }, "unmatched")),
      h("td", {}, entry.vendor || "—"),
      h("td", {}, entry.fault_id !== null && entry.fault_id !== undefined ? badge(`fault ${entry.fault_id}`, "warn") : problems ? badge(`${problems} problem${problems > 1 ? "s" : ""}`, "warn") : ""),
    ),
    open ? h("tr", { class: "details", id }, h("td", { colspan: "8" }, details(entry))) : null,
  ];
}

function render() {
  const f = filters();
  const shown = entries.filter((e) => matches(e, f)).reverse();
  replace($("#journal-summary"), `${shown.length} shown · ${entries.length} kept (newest first)`);
  if (!shown.length) {
    replace($("#journal-list"), h("p", { class: "empty" }, entries.length ? "No entries match." : "No vendor requests yet."));
    return;
  }
  const headings = ["", "Time (UTC)", "Method", "Path", "Status", "Operation", "Vendor", ""];
  replace(
    $("#journal-list"),
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "journal" },
        h("caption", {}, "Journal"),
        h("thead", {}, h("tr", {}, headings.map((text, i) => h("th", { scope: "col" }, text || (i === 0 ? h("span", { class: "sr-only" }, "Details") : h("span", { class: "sr-only" }, "Notes")))))),
        h("tbody", {}, shown.map(row)),
      ),
    ),
  );
}

async function poll() {
  try {
    const data = await admin.get(`/requests?limit=${LIMIT}`);
    const seen = `${data.total}:${data.requests.at(-1)?.id ?? 0}:${data.dropped}`;
    entries = data.requests;
    if (seen !== lastSeen) {
      lastSeen = seen;
      render();
    }
  } catch (error) {
    notify(`Could not read the journal: ${error.message}`, "error");
  }
}

function schedule() {
  clearInterval(timer);
  timer = null;
  if ($("#journal-live").checked) timer = setInterval(poll, POLL_MS);
}

export function init() {
  const form = $("#journal-filters");
  form.addEventListener("input", render);
  form.addEventListener("submit", (event) => event.preventDefault());
  $("#journal-live").addEventListener("change", schedule);
  $("#journal-refresh").addEventListener("click", poll);
  $("#journal-clear").addEventListener("click", async () => {
    try {
      await admin.del("/requests");
      expanded.clear();
      notify("Journal cleared.");
    } catch (error) {
      notify(error.message, "error");
    }
    poll();
  });
}

export function show() {
  lastSeen = "";
  poll();
  schedule();
}

export function hide() {
  clearInterval(timer);
  timer = null;
}
