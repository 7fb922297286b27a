// Experiments of both vendors: one table per PostHog project and per LaunchDarkly project and
// environment, filters and search, and a detail dialog whose buttons call the vendors' endpoints.

import { vendorCall, vendorData, vendorMessage } from "./api.js";
import { $, badge, h, json, notify, replace, table, when } from "./dom.js";

const SEMANTIC_PATCH = "application/json; domain-model=launchdarkly.semanticpatch";
const PAGE = 100;
const MAX_PAGES = 10;
let rows = [];
let scopes = [];
let context = null;

const relative = (url) => {
  const parsed = new URL(url, location.origin);
  return parsed.pathname + parsed.search;
};

async function pages(vendor, first, itemsOf, nextOf) {
  const out = [];
  let path = first;
  for (let page = 0; path && page < MAX_PAGES; page++) {
    const data = await vendorData(vendor, "GET", path);
    out.push(...itemsOf(data));
    const next = nextOf(data);
    path = next ? relative(next) : null;
  }
  return out;
}

function posthogRow(project, e) {
  return {
    vendor: "posthog",
    scope: `posthog:${project.id}`,
    id: e.id,
    name: e.name,
    key: String(e.id),
    status: e.status || "—",
    flag: e.feature_flag_key || "",
    start: e.start_date,
    end: e.end_date,
    archived: Boolean(e.archived),
    path: `/api/projects/${project.id}/experiments/${e.id}/`,
    raw: e,
  };
}

function launchdarklyRow(project, e) {
  const iteration = e.currentIteration || {};
  return {
    vendor: "launchdarkly",
    scope: `launchdarkly:${project.key}:${e.environmentKey}`,
    id: e.key,
    name: e.name,
    key: e.key,
    status: iteration.status || "—",
    flag: Object.keys(iteration.flags || {}).join(", "),
    start: iteration.startedAt,
    end: iteration.endedAt,
    archived: e.archivedDate !== undefined && e.archivedDate !== null,
    path: `/api/v2/projects/${encodeURIComponent(project.key)}/environments/${encodeURIComponent(e.environmentKey)}/experiments/${encodeURIComponent(e.key)}`,
    raw: e,
  };
}

async function load() {
  const world = await context.world();
  scopes = [
    ...world.posthog.map((p) => ({ id: `posthog:${p.id}`, vendor: "posthog", label: `PostHog · ${p.name} (project ${p.id})` })),
    ...world.launchdarkly.flatMap((p) =>
      p.environments.map((env) => ({
        id: `launchdarkly:${p.key}:${env.key}`,
        vendor: "launchdarkly",
        label: `LaunchDarkly · ${p.name} · ${env.name}`,
      })),
    ),
  ];
  const posthog = world.posthog.map(async (project) => {
    const base = `/api/projects/${project.id}/experiments/?limit=${PAGE}`;
    const lists = await Promise.all(
      [base, `${base}&archived=true`].map((first) => pages("posthog", first, (d) => d.results, (d) => d.next)),
    );
    return lists.flat().map((e) => posthogRow(project, e));
  });
  const launchdarkly = world.launchdarkly.map(async (project) => {
    const first = `/api/v2/projects/${encodeURIComponent(project.key)}/experiments?limit=${PAGE}&lifecycleState=active,archived&expand=treatments`;
    const items = await pages("launchdarkly", first, (d) => d.items, (d) => d._links?.next?.href);
    return items.map((e) => launchdarklyRow(project, e));
  });
  rows = (await Promise.all([...posthog, ...launchdarkly])).flat();
}

function filters() {
  const form = $("#experiment-filters");
  return {
    vendor: form.elements.vendor.value,
    status: form.elements.status.value,
    archived: form.elements.archived.value,
    q: form.elements.q.value.trim().toLowerCase(),
  };
}

function matches(row, f) {
  if (f.vendor && row.vendor !== f.vendor) return false;
  if (f.status && row.status !== f.status) return false;
  if (f.archived === "active" && row.archived) return false;
  if (f.archived === "archived" && !row.archived) return false;
  if (f.q && ![row.name, row.key, row.flag].some((v) => String(v || "").toLowerCase().includes(f.q))) return false;
  return true;
}

function render() {
  const f = filters();
  const shown = rows.filter((row) => matches(row, f));
  replace($("#experiments-summary"), `${shown.length} of ${rows.length} experiments`);
  const sections = scopes
    .filter((scope) => !f.vendor || scope.vendor === f.vendor)
    .map((scope) => {
      const mine = shown.filter((row) => row.scope === scope.id);
      const headings = ["Name", scope.vendor === "posthog" ? "Id" : "Key", "Status", "Flag", "Start", "End", "Archived"];
      const body = mine.map((row) =>
        h(
          "tr",
          {},
          h(
            "td",
            {},
            h("button", { type: "button", class: "link", onclick: () => openDetail(row) }, row.name || "(no name)"),
          ),
          h("td", { class: "mono" }, row.key),
          h("td", {}, badge(row.status)),
          h("td", { class: "mono" }, row.flag || "—"),
          h("td", {}, when(row.start)),
          h("td", {}, when(row.end)),
          h("td", {}, row.archived ? badge("archived") : "no"),
        ),
      );
      return h(
        "section",
        { class: "scope", "aria-label": scope.label },
        h("h3", {}, scope.label),
        table(scope.label, headings, body, "No experiments match."),
      );
    });
  replace($("#experiment-tables"), sections.length ? sections : h("p", { class: "empty" }, "No projects."));
}

async function refresh() {
  replace($("#experiments-summary"), "Loading…");
  try {
    await load();
    render();
  } catch (error) {
    replace($("#experiments-summary"), "");
    notify(`Could not load experiments: ${error.message}`, "error");
  }
}

// -- the detail dialog ------------------------------------------------------------------------

function message(kind, ...parts) {
  replace($("#detail-message"), parts.length ? h("p", { class: `message ${kind}` }, parts) : "");
}

async function reload(row) {
  const expand = row.vendor === "launchdarkly" ? "?expand=treatments,draftIteration,previousIterations,secondaryMetrics" : "";
  const data = await vendorData(row.vendor, "GET", row.path + expand);
  const project = row.vendor === "posthog" ? { id: row.scope.split(":")[1] } : { key: row.scope.split(":")[1] };
  const fresh = row.vendor === "posthog" ? posthogRow(project, data) : launchdarklyRow(project, data);
  const index = rows.findIndex((r) => r.scope === fresh.scope && r.id === fresh.id);
  if (index >= 0) rows[index] = fresh;
  else rows.push(fresh);
  return fresh;
}

function fill(row) {
  replace($("#detail-title"), row.name || "(no name)");
  replace(
    $("#detail-meta"),
    row.vendor === "posthog" ? "PostHog" : "LaunchDarkly",
    ` · ${row.vendor === "posthog" ? "id" : "key"} `,
    h("span", { class: "mono" }, row.key),
    " · ",
    badge(row.status),
    row.archived ? [" ", badge("archived")] : "",
    row.flag ? [" · flag ", h("span", { class: "mono" }, row.flag)] : "",
  );
  replace($("#detail-actions"), row.vendor === "posthog" ? posthogActions(row) : launchdarklyActions(row));
  replace($("#detail-json"), json(row.raw));
}

// Run one vendor call from a button; show the vendor's refusal in the dialog, or the new status.
async function act(row, label, method, suffix, body, contentType) {
  message("busy", `${label}…`);
  const res = await vendorCall(row.vendor, method, row.path + suffix, body, contentType);
  if (!res.ok) {
    const extra = res.status === 409 && res.data?.change_request_id
      ? [" ", h("a", { href: "#approvals", onclick: () => $("#detail").close() }, "Open the approvals inbox")]
      : "";
    message("error", h("strong", {}, `${label} refused (HTTP ${res.status}): `), vendorMessage(res), extra);
    return;
  }
  let fresh = row;
  if (method === "POST" && suffix === "duplicate/") {
    notify(`Duplicated as experiment ${res.data.id} (“${res.data.name}”).`);
    await refresh();
  } else {
    fresh = await reload(row);
    render();
  }
  fill(fresh);
  message("ok", `${label}: done. Status is now ${fresh.status}${fresh.archived ? " (archived)" : ""}.`);
}

function button(label, onclick, attrs = {}) {
  return h("button", { type: "button", ...attrs, onclick }, label);
}

function posthogActions(row) {
  const variants = row.raw.parameters?.feature_flag_variants || row.raw.feature_flag?.filters?.multivariate?.variants || [];
  const variant = h(
    "select",
    { id: "ship-variant", "aria-label": "Variant to ship" },
    variants.map((v) => h("option", { value: v.key }, v.key)),
  );
  const post = (label, suffix, body) => () => act(row, label, "POST", suffix, body);
  return [
    button("Launch", post("Launch", "launch/")),
    button("Pause", post("Pause", "pause/")),
    button("Resume", post("Resume", "resume/")),
    button("End", post("End", "end/")),
    h(
      "span",
      { class: "group" },
      variant,
      button("Ship variant", () => act(row, "Ship variant", "POST", "ship_variant/", { variant_key: variant.value })),
    ),
    button("Reset", post("Reset", "reset/")),
    button("Archive", post("Archive", "archive/")),
    button("Unarchive", post("Unarchive", "unarchive/")),
    button("Duplicate", post("Duplicate", "duplicate/")),
  ];
}

function launchdarklyActions(row) {
  const iteration = row.raw.currentIteration || {};
  const patch = (label, instruction) => () =>
    act(row, label, "PATCH", "", { instructions: [instruction()] }, SEMANTIC_PATCH);
  const justification = h("input", { type: "text", id: "ld-justification", placeholder: "needed while one runs" });
  const winner = h(
    "select",
    { id: "ld-winner", "aria-label": "Winning treatment" },
    (iteration.treatments || []).map((t) => h("option", { value: t._id }, t.name)),
  );
  const reason = h("input", { type: "text", id: "ld-reason", placeholder: "why it won" });
  return [
    h(
      "span",
      { class: "group" },
      h("label", { for: "ld-justification" }, "Justification"),
      justification,
      button("Start iteration", patch("Start iteration", () => {
        const ins = { kind: "startIteration" };
        if (justification.value.trim()) ins.changeJustification = justification.value.trim();
        return ins;
      })),
    ),
    h(
      "span",
      { class: "group" },
      winner,
      h("label", { for: "ld-reason" }, "Reason"),
      reason,
      button("Stop iteration", patch("Stop iteration", () => {
        const ins = { kind: "stopIteration", winningTreatmentId: winner.value };
        if (reason.value.trim()) ins.winningReason = reason.value.trim();
        return ins;
      })),
    ),
    button("Archive", patch("Archive", () => ({ kind: "archiveExperiment" }))),
    button("Restore", patch("Restore", () => ({ kind: "restoreExperiment" }))),
  ];
}

async function openDetail(row) {
  const dialog = $("#detail");
  message("");
  fill(row);
  if (!dialog.open) dialog.showModal();
  try {
    fill(await reload(row));
  } catch (error) {
    message("error", `Could not load it: ${error.message}`);
  }
}

export function init(ctx) {
  context = ctx;
  const form = $("#experiment-filters");
  form.addEventListener("input", render);
  form.addEventListener("submit", (event) => event.preventDefault());
  $("#experiments-refresh").addEventListener("click", refresh);
  $("#detail-close").addEventListener("click", () => $("#detail").close());
}

export function show() {
  refresh();
}
