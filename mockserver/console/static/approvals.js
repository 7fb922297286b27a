// The approvals inbox: PostHog change requests to approve, reject or cancel, and the policies that open them.

import { admin } from "./api.js";
import { $, badge, formData, h, notify, replace, table, when } from "./dom.js";

let context = null;

function approver(cr) {
  const typed = Number.parseInt($("#cr-filters").elements.user_id.value, 10);
  return Number.isInteger(typed) && typed > 0 ? typed : null; // none: the server picks the policy's approver
}

const DONE = { approve: "approved", reject: "rejected", cancel: "canceled" };

async function decide(cr, decision) {
  const reason = $("#cr-filters").elements.reason.value.trim();
  const body = {};
  const userId = decision === "cancel" ? null : approver(cr); // only the requester cancels: the server's default
  if (userId !== null) body.user_id = userId;
  if (reason) body.reason = reason;
  try {
    const after = await admin.post(`/posthog/change-requests/${encodeURIComponent(cr.id)}/${decision}`, body);
    const outcome = after.state === "failed" ? `failed: ${after.apply_error}` : after.state;
    notify(`Change request ${DONE[decision]}: now ${outcome}.`, after.state === "failed" ? "error" : "ok");
  } catch (error) {
    notify(`Could not ${decision}: ${error.message}`, "error");
  }
  await refresh();
}

async function renderRequests() {
  const wanted = $("#cr-filters").elements.state.value;
  const data = await admin.get(`/posthog/change-requests${wanted ? `?state=${encodeURIComponent(wanted)}` : ""}`);
  const rows = data.change_requests
    .slice()
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))
    .map((cr) =>
      h(
        "tr",
        {},
        h("td", {}, when(cr.created_at)),
        h("td", {}, h("span", { class: "mono" }, cr.action_key), h("br"), h("span", { class: "muted" }, cr.intent_display?.description || "")),
        h("td", { class: "mono" }, `${cr.intent?.method || ""} ${cr.intent?.path || ""}`),
        h("td", {}, cr.created_by?.email || "—"),
        h("td", {}, badge(cr.state), cr.state === "failed" && cr.apply_error ? h("div", { class: "muted" }, cr.apply_error) : ""),
        h(
          "td",
          { class: "actions" },
          cr.state === "pending"
            ? [
                h("button", { type: "button", class: "primary", onclick: () => decide(cr, "approve"), "aria-label": `Approve ${cr.action_key} ${cr.intent?.path || ""}` }, "Approve"),
                h("button", { type: "button", class: "danger", onclick: () => decide(cr, "reject"), "aria-label": `Reject ${cr.action_key} ${cr.intent?.path || ""}` }, "Reject"),
                h("button", { type: "button", onclick: () => decide(cr, "cancel"), "aria-label": `Cancel ${cr.action_key} ${cr.intent?.path || ""} as its requester` }, "Cancel"),
              ]
            : "—",
        ),
      ),
    );
  replace(
    $("#cr-list"),
    table("Change requests", ["Opened", "Action", "Request", "Requested by", "State", "Decision"], rows, wanted === "pending" ? "No pending change requests." : "No change requests."),
  );
}

async function renderPolicies() {
  const data = await admin.get("/posthog/approval-policies");
  const rows = data.policies.map((p) =>
    h(
      "tr",
      {},
      h("td", {}, String(p.project_id)),
      h("td", { class: "mono" }, p.action_key),
      h("td", {}, String(p.quorum)),
      h("td", {}, approvers(p)),
      h("td", {}, `${p.expires_after_days} days`),
      h("td", {}, p.enabled ? badge("on", "running") : badge("off", "stopped")),
      h(
        "td",
        {},
        h("button", { type: "button", class: "danger", "aria-label": `Remove policy ${p.action_key} in project ${p.project_id}`, onclick: () => removePolicy(p) }, "Remove"),
      ),
    ),
  );
  replace($("#policy-list"), table("Approval policies", ["Project", "Action", "Quorum", "Approvers", "Expires after", "Enabled", ""], rows, "No policies: nothing needs approval."));
}

function approvers(policy) {
  if (!policy.users.length) return policy.allow_self_approve ? "anyone" : "anyone but the requester";
  return `${policy.users.join(", ")}${policy.allow_self_approve ? " (the requester may approve)" : ""}`;
}

async function removePolicy(policy) {
  try {
    await admin.del(`/posthog/approval-policies/${policy.id}`);
    notify(`Policy ${policy.action_key} removed.`);
  } catch (error) {
    notify(error.message, "error");
  }
  await refresh();
}

async function addPolicy(event) {
  event.preventDefault();
  const values = formData(event.target);
  const body = {
    project_id: Number(values.project_id),
    action_key: values.action_key,
    quorum: Number(values.quorum),
    expires_after_days: Number(values.expires_after_days),
    allow_self_approve: event.target.elements.allow_self_approve.checked,
  };
  const users = values.users.split(/[\s,]+/).filter(Boolean).map(Number);
  if (users.some((u) => !Number.isInteger(u))) {
    notify("Approvers must be user ids separated by commas.", "error");
    return;
  }
  if (users.length) body.users = users;
  try {
    await admin.post("/posthog/approval-policies", body);
    notify(`Policy ${body.action_key} added for project ${body.project_id}.`);
  } catch (error) {
    notify(error.message, "error");
  }
  await refresh();
}

async function fillProjects() {
  const world = await context.world();
  const select = $("#policy-form").elements.project_id;
  const chosen = select.value;
  replace(select, world.posthog.map((p) => h("option", { value: p.id }, `${p.id} · ${p.name}`)));
  if (chosen) select.value = chosen;
}

async function refresh() {
  try {
    await Promise.all([renderRequests(), renderPolicies(), fillProjects()]);
  } catch (error) {
    notify(`Could not load approvals: ${error.message}`, "error");
  }
}

export function init(ctx) {
  context = ctx;
  $("#cr-filters").addEventListener("submit", (event) => event.preventDefault());
  $("#cr-filters").elements.state.addEventListener("change", refresh);
  $("#policy-form").addEventListener("submit", addPolicy);
  $("#approvals-refresh").addEventListener("click", refresh);
}

export function show() {
  refresh();
}
