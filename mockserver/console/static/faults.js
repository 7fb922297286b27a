// Fault rules (add, list with fired counts, delete) and the run-time settings (latency, no-auth).

import { admin } from "./api.js";
import { $, formData, h, notify, replace, table } from "./dom.js";

function latency(text) {
  if (!text) return undefined;
  const match = /^(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?$/.exec(text);
  if (!match) throw new Error("Latency is a number of milliseconds, or MIN-MAX such as 100-400.");
  return match[2] === undefined ? Number(match[1]) : [Number(match[1]), Number(match[2])];
}

function faultBody(form) {
  const values = formData(form);
  const body = {};
  if (values.method) body.method = values.method;
  if (values.path) body.path = values.path;
  if (values.operation_id) body.operation_id = values.operation_id;
  if (values.status) body.status = Number(values.status);
  const delay = latency(values.latency_ms);
  if (delay !== undefined) body.latency_ms = delay;
  if (values.probability) body.probability = Number(values.probability);
  if (values.times) body.times = Number(values.times);
  if (form.elements.drop_connection.checked) body.drop_connection = true;
  return body;
}

function describeMatch(rule) {
  const target = rule.operation_id ? `operation ${rule.operation_id}` : rule.path;
  return `${rule.method || "any method"} · ${target}`;
}

function describeEffect(rule) {
  const parts = [];
  if (rule.status) parts.push(`HTTP ${rule.status}`);
  if (rule.latency_ms !== null && rule.latency_ms !== undefined) {
    parts.push(Array.isArray(rule.latency_ms) ? `${rule.latency_ms[0]}–${rule.latency_ms[1]} ms` : `${rule.latency_ms} ms`);
  }
  if (rule.drop_connection) parts.push("drop the connection");
  return parts.join(" + ");
}

async function renderFaults() {
  const data = await admin.get("/faults");
  const rows = data.faults.map((rule) =>
    h(
      "tr",
      {},
      h("td", {}, String(rule.id)),
      h("td", { class: "mono" }, describeMatch(rule)),
      h("td", {}, describeEffect(rule)),
      h("td", {}, String(rule.probability)),
      h("td", {}, rule.times === null ? "every time" : String(rule.times)),
      h("td", {}, h("strong", {}, String(rule.fired))),
      h("td", {}, rule.remaining === null ? "∞" : String(rule.remaining)),
      h("td", {}, h("button", { type: "button", class: "danger", "aria-label": `Delete fault ${rule.id}`, onclick: () => remove(rule.id) }, "Delete")),
    ),
  );
  replace($("#fault-list"), table("Fault rules", ["Id", "Matches", "Effect", "Probability", "Times", "Fired", "Remaining", ""], rows, "No fault rules."));
}

async function remove(id) {
  try {
    await admin.del(`/faults/${id}`);
    notify(`Fault ${id} deleted.`);
  } catch (error) {
    notify(error.message, "error");
  }
  refresh();
}

async function add(event) {
  event.preventDefault();
  try {
    const rule = await admin.post("/faults", faultBody(event.target));
    notify(`Fault ${rule.id} added: ${describeEffect(rule)} on ${describeMatch(rule)}.`);
    event.target.reset();
  } catch (error) {
    notify(`Fault refused: ${error.message}`, "error");
  }
  refresh();
}

function showSettings(settings) {
  const form = $("#settings-form");
  const [low, high] = settings.latency_ms || [0, 0];
  // A refresh that lands while someone is typing must not overwrite what they typed.
  if (!form.dataset.editing) {
    form.elements.min.value = String(low);
    form.elements.max.value = String(high);
  }
  form.elements.no_auth.checked = settings.no_auth;
  form.elements.no_auth.disabled = settings.strict_auth;
  const delay = settings.latency_ms ? `${low}–${high} ms on every vendor response` : "no added latency";
  const auth = settings.strict_auth ? "strict auth (registered keys only)" : settings.no_auth ? "no auth" : "any key accepted";
  replace($("#settings-summary"), `Now: ${delay}; ${auth}.`);
}

async function patchSettings(changes) {
  delete $("#settings-form").dataset.editing;
  try {
    showSettings(await admin.patch("/settings", changes));
    notify("Settings changed.");
  } catch (error) {
    notify(`Settings refused: ${error.message}`, "error");
    showSettings(await admin.get("/settings"));
  }
}

async function refresh() {
  try {
    await renderFaults();
    showSettings(await admin.get("/settings"));
  } catch (error) {
    notify(`Could not load faults: ${error.message}`, "error");
  }
}

export function init() {
  $("#fault-form").addEventListener("submit", add);
  $("#faults-refresh").addEventListener("click", refresh);
  $("#faults-clear").addEventListener("click", async () => {
    try {
      await admin.del("/faults");
      notify("Every fault rule removed.");
    } catch (error) {
      notify(error.message, "error");
    }
    refresh();
  });
  const settings = $("#settings-form");
  for (const field of [settings.elements.min, settings.elements.max]) {
    field.addEventListener("input", () => { settings.dataset.editing = "1"; });
  }
  settings.addEventListener("submit", (event) => {
    event.preventDefault();
    const low = Number(settings.elements.min.value || 0);
    const high = Number(settings.elements.max.value || low);
    patchSettings({ latency_ms: high === 0 ? null : [low, high] });
  });
  settings.elements.no_auth.addEventListener("change", () => patchSettings({ no_auth: settings.elements.no_auth.checked }));
}

export function show() {
  refresh();
}
