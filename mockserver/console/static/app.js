// The console's entry point: navigation, the header, the admin-token dialog, and what the views share.

import { admin, changeToken, onTokenNeeded, registerKeys } from "./api.js";
import { $, $$, notify, replace, h, when } from "./dom.js";
import * as experiments from "./experiments.js";
import * as approvals from "./approvals.js";
import * as journal from "./journal.js";
import * as faults from "./faults.js";
import * as state from "./state.js";

const VIEWS = { experiments, approvals, journal, faults, state };
let current = null;
let world = null;

// Projects and environments of both vendors, read from the state export (neither vendor API lists them).
async function loadWorld() {
  const doc = await admin.get("/state");
  const data = doc.data || {};
  const posthog = Object.values(data.posthog?.projects || {})
    .map((p) => ({ id: p.id, name: p.name }))
    .sort((a, b) => a.id - b.id);
  const launchdarkly = Object.values(data.launchdarkly?.projects || {}).map((p) => ({
    key: p.key,
    name: p.name || p.key,
    environments: Object.values(p.environments || {}).map((e) => ({ key: e.key, name: e.name || e.key })),
  }));
  const users = Object.values(data.posthog?.users || {}).map((u) => ({ id: u.id, email: u.email }));
  return { posthog, launchdarkly, users };
}

export const ctx = {
  async world() {
    world = world || loadWorld().catch((error) => { world = null; throw error; });
    return world;
  },
  // After a fixture, reset or upload: projects may differ, and the header's clock too.
  changed() {
    world = null;
    refreshHeader();
  },
  refreshHeader: () => refreshHeader(),
};

async function refreshHeader() {
  const info = $("#server-info");
  try {
    const [health, clock] = await Promise.all([admin.get("/health"), admin.get("/clock")]);
    replace(
      info,
      `mockserver ${health.version} · seed ${health.seed} · clock ${when(clock.now)}`,
      clock.frozen ? h("span", { class: "badge frozen" }, "frozen") : "",
    );
  } catch (error) {
    replace(info, `Server unreachable: ${error.message}`);
  }
}

function show(name) {
  const view = VIEWS[name] ? name : "experiments";
  for (const panel of $$("[data-panel]")) panel.hidden = panel.dataset.panel !== view;
  for (const link of $$("nav a[data-view]")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (current && current !== VIEWS[view] && current.hide) current.hide();
  current = VIEWS[view];
  document.title = `${$(`[data-panel="${view}"] h2`).textContent} · mockserver console`;
  current.show(ctx);
}

// Resolves with the token entered, "" (when empty is allowed) or null when cancelled.
function tokenDialog(reason, allowEmpty = false) {
  const dialog = $("#token-dialog");
  const form = $("#token-form");
  replace($("#token-reason"), reason);
  form.reset();
  form.elements.token.required = !allowEmpty;
  return new Promise((resolve) => {
    const finish = (value) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("cancel", onCancel);
      $("#token-cancel").removeEventListener("click", onCancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      finish(form.elements.token.value.trim() || (allowEmpty ? "" : null));
    };
    const onCancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("cancel", onCancel);
    $("#token-cancel").addEventListener("click", onCancel);
    dialog.showModal();
    form.elements.token.focus();
  });
}

async function start() {
  onTokenNeeded(tokenDialog);
  $("#token-button").addEventListener("click", async () => {
    await changeToken();
    ctx.changed();
    if (current) current.show(ctx);
  });
  for (const view of Object.values(VIEWS)) view.init(ctx);
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  await refreshHeader();
  try {
    const settings = await admin.get("/settings");
    if (settings.strict_auth) await registerKeys();
  } catch (error) {
    notify(error.message, "error");
  }
  show(location.hash.slice(1));
  setInterval(refreshHeader, 5000);
}

start();
