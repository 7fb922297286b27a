"""The console in real headless Chromium: every view, driven as a person would, against a live server.

Each test's traffic is checked by the ``console`` fixture when it ends (specs, journal, admin
calls, script errors, CSP); screenshots of the main views go to tests/console/screenshots/.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import expect

PH = {"Authorization": "Bearer phx_console_tests"}
WEB = "PostHog · Web app (project 1)"
LD_PROD = "LaunchDarkly · Default Project · Production"


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=name).click()


def experiment_row(page, region: str, name: str):
    return (
        page.get_by_role("region", name=region)
        .get_by_role("row")
        .filter(has=page.get_by_role("button", name=name, exact=True))
    )


def test_root_points_at_the_console_which_lists_both_vendors(console):
    page = console.page
    page.goto(console.url + "/")
    expect(page).to_have_url(re.compile(r"/__admin/ui#?$"))
    expect(page.get_by_role("heading", name="Experiments", exact=True)).to_be_visible()
    expect(page.get_by_role("region", name=WEB)).to_be_visible()
    expect(page.get_by_role("region", name="PostHog · Mobile app (project 2)")).to_be_visible()
    expect(page.get_by_role("region", name=LD_PROD)).to_be_visible()
    expect(experiment_row(page, WEB, "Product tour")).to_contain_text("draft")
    expect(experiment_row(page, LD_PROD, "Search ranking test")).to_contain_text("running")
    expect(page.locator("#server-info")).to_contain_text("seed 42")
    console.screenshot("experiments")

    filters = page.get_by_role("search", name="Filter experiments")
    filters.get_by_label("Search").fill("ranking")
    expect(page.locator("#experiments-summary")).to_contain_text("2 of")
    filters.get_by_label("Vendor").select_option("launchdarkly")
    expect(page.get_by_role("region", name=WEB)).to_have_count(0)
    expect(experiment_row(page, LD_PROD, "Search ranking test")).to_be_visible()
    filters.get_by_label("Search").fill("")
    filters.get_by_label("Vendor").select_option("")
    filters.get_by_label("Archived").select_option("archived")
    expect(page.get_by_role("region", name=WEB).get_by_role("row")).not_to_have_count(0)
    filters.get_by_label("Status").select_option("running")
    expect(page.get_by_role("region", name=WEB)).to_contain_text("No experiments match.")


def test_launch_and_end_a_posthog_experiment_and_see_a_rule_refuse(console):
    page = console.open()
    experiment_row(page, WEB, "Product tour").get_by_role("button", name="Product tour").click()
    dialog = page.get_by_role("dialog", name="Product tour")
    expect(dialog.locator("#detail-json")).to_contain_text('"feature_flag_key": "product-tour"')
    alert = dialog.get_by_role("alert")

    dialog.get_by_role("button", name="Launch", exact=True).click()
    expect(alert).to_contain_text("Launch: done. Status is now running.")
    console.screenshot("experiment-detail")

    console.expect_refusal("POST", "/api/projects/1/experiments/15/archive/")
    dialog.get_by_role("button", name="Archive", exact=True).click()
    expect(alert).to_contain_text("Archive refused (HTTP 400)")
    expect(alert).to_contain_text("Experiment must be ended before it can be archived.")
    console.screenshot("experiment-refused")

    dialog.get_by_role("button", name="End", exact=True).click()
    expect(alert).to_contain_text("Status is now stopped.")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(experiment_row(page, WEB, "Product tour")).to_contain_text("stopped")
    stored = requests.get(f"{console.url}/api/projects/1/experiments/15/", headers=PH, timeout=5).json()
    assert stored["status"] == "stopped" and stored["end_date"]
    posts = [(ex.method, ex.path) for ex in console.tap.exchanges if ex.method == "POST"]
    assert [p for p in posts if "/experiments/15/" in p[1]] == [
        ("POST", "/api/projects/1/experiments/15/launch/"),
        ("POST", "/api/projects/1/experiments/15/archive/"),
        ("POST", "/api/projects/1/experiments/15/end/"),
    ]


def test_launchdarkly_stop_with_a_winner_then_archive(console):
    page = console.open()
    experiment_row(page, LD_PROD, "Search ranking test").get_by_role("button", name="Search ranking test").click()
    dialog = page.get_by_role("dialog", name="Search ranking test")
    alert = dialog.get_by_role("alert")
    expect(dialog.get_by_label("Winning treatment").locator("option")).not_to_have_count(0)

    path = "/api/v2/projects/default/environments/production/experiments/search-ranking-test"
    console.expect_refusal("PATCH", path)
    dialog.get_by_role("button", name="Archive", exact=True).click()
    expect(alert).to_contain_text("Stop the running iteration (stopIteration) before archiving the experiment")

    winner = dialog.get_by_label("Winning treatment")
    winner.select_option(index=1)
    winner_id = winner.input_value()
    dialog.get_by_label("Reason").fill("Clear lift")
    dialog.get_by_role("button", name="Stop iteration").click()
    expect(alert).to_contain_text("Status is now stopped.")
    dialog.get_by_role("button", name="Archive", exact=True).click()
    expect(alert).to_contain_text("(archived)")
    body = json.loads(dialog.locator("#detail-json").text_content())
    assert body["archivedDate"] and body["currentIteration"]["winningTreatmentId"] == winner_id
    patches = [ex for ex in console.tap.exchanges if ex.method == "PATCH"]
    assert all(ex.headers["Content-Type"].endswith("domain-model=launchdarkly.semanticpatch") for ex in patches)
    assert all(ex.headers["Authorization"] == "api-mockserver-console" for ex in patches)


def test_launchdarkly_start_an_iteration(console):
    page = console.open()
    expect(experiment_row(page, LD_PROD, "Onboarding flow test")).to_contain_text("not_started")
    experiment_row(page, LD_PROD, "Onboarding flow test").get_by_role("button", name="Onboarding flow test").click()
    dialog = page.get_by_role("dialog", name="Onboarding flow test")
    expect(dialog.locator("#detail-json")).to_contain_text('"draftIteration"')
    dialog.get_by_role("button", name="Start iteration").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Start iteration: done. Status is now running.")
    dialog.get_by_role("button", name="Close").click()
    expect(experiment_row(page, LD_PROD, "Onboarding flow test")).to_contain_text("running")


def test_approve_a_change_request_from_the_inbox(console):
    page = console.open("state")
    page.get_by_role("button", name="Load fixture approval-required").click()
    expect(page.locator("#state-summary")).to_contain_text("approval-required")

    nav(page, "Experiments")
    experiment_row(page, WEB, "Referral banner").get_by_role("button", name="Referral banner").click()
    dialog = page.get_by_role("dialog", name="Referral banner")
    console.expect_refusal("POST", "/api/projects/1/experiments/2/launch/")
    dialog.get_by_role("button", name="Launch", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("Launch refused (HTTP 409)")
    expect(dialog.get_by_role("alert")).to_contain_text("pending approval")
    dialog.get_by_role("link", name="Open the approvals inbox").click()

    expect(page.get_by_role("heading", name="Approvals", exact=True)).to_be_visible()
    requests_table = page.locator("#cr-list")
    expect(requests_table).to_contain_text("/api/projects/1/experiments/2/launch/")
    expect(page.locator("#policy-list")).to_contain_text("experiment.launch")
    console.screenshot("approvals")
    requests_table.get_by_role("button", name=re.compile("^Approve experiment.launch")).click()
    expect(page.get_by_role("status")).to_contain_text("approved: now applied")
    expect(requests_table).to_contain_text("No pending change requests.")

    nav(page, "Experiments")
    expect(experiment_row(page, WEB, "Referral banner")).to_contain_text("running")


def test_reject_needs_a_reason_and_the_requester_can_cancel(console):
    page = console.open("state")
    page.get_by_role("button", name="Load fixture approval-required").click()
    expect(page.locator("#state-summary")).to_contain_text("approval-required")

    def launch(experiment_id: int) -> None:
        path = f"/api/projects/1/experiments/{experiment_id}/launch/"
        console.expect_refusal("POST", path)
        answer = requests.post(f"{console.url}{path}", headers={"Authorization": "Bearer phx_console"}, timeout=5)
        assert answer.status_code == 409 and answer.json()["code"] == "approval_required", answer.text

    launch(2)
    page = console.open("approvals")
    requests_table = page.locator("#cr-list")
    reject = requests_table.get_by_role("button", name="Reject experiment.launch /api/projects/1/experiments/2/launch/")
    console.admin_failures.append(("POST", "/__admin/posthog/change-requests/*/reject"))  # refused on purpose
    reject.click()
    expect(page.get_by_role("status")).to_contain_text("A reason is required for rejection.")
    page.get_by_role("form", name="Change requests").get_by_label("Reason (a rejection needs one)").fill("not yet")
    reject.click()
    expect(page.get_by_role("status")).to_contain_text("rejected: now rejected")
    launch(3)  # the launch gate is free again: a new request
    page.locator("#approvals-refresh").click()
    requests_table.get_by_role(
        "button", name="Cancel experiment.launch /api/projects/1/experiments/3/launch/ as its requester"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("canceled: now rejected")
    expect(requests_table).to_contain_text("No pending change requests.")
    changes = requests.get(f"{console.url}/__admin/posthog/change-requests", timeout=5).json()["change_requests"]
    assert sorted(cr["approvals"][0]["reason"] for cr in changes) == ["not yet", "not yet"]


def test_policies_turn_gates_on_and_off(console):
    page = console.open("approvals")
    form = page.get_by_role("form", name="Add an approval policy")
    form.get_by_label("Action").select_option("experiment.pause")
    form.get_by_label("Quorum").fill("2")
    form.get_by_label("Expires after (days)").fill("3")
    form.get_by_label("Requester may approve").check()
    form.get_by_role("button", name="Add policy").click()
    expect(page.locator("#policy-list")).to_contain_text("experiment.pause")
    expect(page.locator("#policy-list")).to_contain_text("3 days")
    policies = requests.get(f"{console.url}/__admin/posthog/approval-policies", timeout=5).json()["policies"]
    assert [(p["action_key"], p["quorum"], p["project_id"]) for p in policies] == [("experiment.pause", 2, 1)]
    assert policies[0]["expires_after_days"] == 3 and policies[0]["allow_self_approve"] is True
    page.get_by_role("button", name="Remove policy experiment.pause in project 1").click()
    expect(page.locator("#policy-list")).to_contain_text("No policies")


def test_a_fault_fires_and_shows_in_the_live_journal(console):
    page = console.open("faults")
    form = page.get_by_role("form", name="Add a fault")
    form.get_by_label("Operation id").fill("experiments_retrieve")
    form.get_by_label("Status").fill("503")
    form.get_by_label("Times").fill("1")
    form.get_by_role("button", name="Add fault").click()
    faults = page.locator("#fault-list")
    expect(faults).to_contain_text("operation experiments_retrieve")
    expect(faults).to_contain_text("HTTP 503")

    nav(page, "Experiments")
    experiment_row(page, WEB, "Product tour").get_by_role("button", name="Product tour").click()
    dialog = page.get_by_role("dialog", name="Product tour")
    expect(dialog.get_by_role("alert")).to_contain_text("Injected fault: HTTP 503.")
    dialog.get_by_role("button", name="Close").click()

    nav(page, "Journal")
    row = page.locator("#journal-list tr").filter(has_text="experiments_retrieve").first
    expect(row).to_contain_text("503")
    expect(row).to_contain_text("fault 1")
    row.get_by_role("button", name=re.compile("^Details of GET")).click()
    expect(page.locator("#journal-list dl.entry")).to_contain_text("rule 1")

    # live: a call made elsewhere appears without a reload
    requests.get(f"{console.url}/api/projects/1/experiments/10/?from=elsewhere", headers=PH, timeout=5)
    expect(page.locator("#journal-list tr").filter(has_text="/api/projects/1/experiments/10/")).to_have_count(1)
    filters = page.get_by_role("search", name="Filter the journal")
    filters.get_by_label("Status").select_option("5")
    expect(page.locator("#journal-summary")).to_contain_text("1 shown")
    filters.get_by_label("Status").select_option("")
    console.screenshot("journal")

    nav(page, "Faults & settings")
    fired = page.locator("#fault-list tbody tr").first
    expect(fired.locator("td").nth(5)).to_have_text("1")
    console.screenshot("faults")
    page.get_by_role("button", name="Delete fault 1").click()
    expect(faults).to_contain_text("No fault rules.")


def test_latency_and_no_auth_change_at_run_time(console):
    page = console.open("faults")
    form = page.get_by_role("form", name="Run-time settings")
    form.get_by_label("Latency min (ms)").fill("40")
    form.get_by_label("Latency max (ms)").fill("60")
    form.get_by_role("button", name="Apply latency").click()
    expect(page.locator("#settings-summary")).to_contain_text("40\u201360 ms")
    form.get_by_role("checkbox", name=re.compile("No auth")).check()
    expect(page.locator("#settings-summary")).to_contain_text("no auth")
    assert console.server.runtime.settings.latency == (40, 60)
    keyless = requests.get(f"{console.url}/api/projects/1/experiments/?limit=1", timeout=5)
    assert keyless.status_code == 200 and keyless.elapsed.total_seconds() >= 0.04
    form.get_by_role("checkbox", name=re.compile("No auth")).uncheck()
    form.get_by_label("Latency max (ms)").fill("0")
    form.get_by_label("Latency min (ms)").fill("0")
    form.get_by_role("button", name="Apply latency").click()
    expect(page.locator("#settings-summary")).to_contain_text("no added latency; any key accepted")
    console.expect_refusal("GET", "/api/projects/1/experiments/")
    assert requests.get(f"{console.url}/api/projects/1/experiments/", timeout=5).status_code == 401


def test_clock_fixtures_and_state_files(console, tmp_path):
    page = console.open("state")
    freeze = page.get_by_role("form", name="Freeze the clock")
    freeze.get_by_label("Freeze at").fill("2030-01-01T00:00:00Z")
    freeze.get_by_role("button", name="Freeze", exact=True).click()
    expect(page.locator("#clock-now")).to_contain_text("2030-01-01 00:00:00Z")
    expect(page.locator("#clock-now")).to_contain_text("frozen")
    expect(page.locator("#server-info")).to_contain_text("clock 2030-01-01 00:00:00Z")
    advance = page.get_by_role("form", name="Advance the clock")
    advance.get_by_label("Advance by").fill("1h30m")
    advance.get_by_role("button", name="Advance").click()
    expect(page.locator("#clock-now")).to_contain_text("2030-01-01 01:30:00Z")
    assert console.server.runtime.clock.frozen
    console.screenshot("clock-and-state")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the state").click()
    saved = tmp_path / "state.json"
    download.value.save_as(saved)
    document = json.loads(saved.read_text())
    assert document["format"] == "mockserver/state@1" and document["clock"]["frozen_at"].startswith("2030-01-01T01:30")

    page.get_by_role("button", name="Load fixture empty").click()
    expect(page.locator("#state-summary")).to_contain_text("fixture empty")
    nav(page, "Experiments")
    expect(page.locator("#experiments-summary")).to_have_text("0 of 0 experiments")

    nav(page, "Clock & state")
    page.get_by_label("Upload a state file").set_input_files(str(saved))
    expect(page.locator("#state-summary")).to_contain_text("Loaded")
    nav(page, "Experiments")
    expect(experiment_row(page, WEB, "Product tour")).to_contain_text("draft")

    nav(page, "Clock & state")
    page.get_by_role("button", name="Unfreeze").click()
    expect(page.locator("#clock-now")).to_contain_text("running")
    assert not console.server.runtime.clock.frozen


def test_markup_in_names_and_requests_is_shown_as_text(console):
    evil = '<img src=x onerror="window.__pwned=1">Evil <b>bold</b> & co'
    created = requests.post(
        f"{console.url}/api/projects/1/experiments/",
        json={"name": evil, "feature_flag_key": "evil-flag", "description": "<script>window.__pwned=2</script>"},
        headers=PH,
        timeout=5,
    )
    assert created.status_code == 201, created.text
    marked_path = "/api/projects/1/experiments/<svg onload=window.__pwned=3>/"
    console.expect_refusal("GET", "/api/projects/1/experiments/<svg*")
    assert requests.get(console.url + marked_path, headers=PH, timeout=5).status_code == 404

    page = console.open()
    name = page.get_by_role("region", name=WEB).get_by_role("button", name=evil, exact=True)
    expect(name).to_have_text(evil)
    name.click()
    dialog = page.locator("#detail")
    expect(dialog.get_by_role("heading", level=2)).to_have_text(evil)
    expect(dialog.locator("#detail-json")).to_contain_text("<script>window.__pwned=2</script>")
    dialog.get_by_role("button", name="Close").click()

    nav(page, "Journal")
    journal = page.locator("#journal-list")
    expect(journal).to_contain_text("<svg onload=window.__pwned=3>")
    page.locator("#journal-list tr").filter(has_text="experiments_create").get_by_role("button").click()
    expect(journal.locator("dl.entry")).to_contain_text(evil.replace('"', '\\"'))
    expect(journal.locator("dl.entry")).to_contain_text('"Authorization": "Bearer phx_console_tests"')
    console.screenshot("markup-as-text")

    assert page.evaluate("window.__pwned") is None
    assert page.locator("img, b, script:not([src]), svg").count() == 0


def test_the_console_asks_for_the_admin_token_once_and_sends_it(console):
    """The control API answers 401 without the token; the browser is made to see exactly that."""
    page = console.page
    token = "s3cret-token"
    refused = []

    def guard(route, request):
        if request.headers.get("x-mockserver-admin-token") == token:
            route.continue_()
        else:
            refused.append(request.url)
            body = {"error": "unauthorized", "detail": "The control API needs the admin token.", "field": None}
            route.fulfill(status=401, content_type="application/json", body=json.dumps(body))

    page.route(re.compile(r".*/__admin/(?!ui|docs|specs).*"), guard)
    page.goto(console.url + "/__admin/ui#state")
    dialog = page.get_by_role("dialog", name="Admin token")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("This server needs its admin token.")
    console.screenshot("admin-token")
    dialog.get_by_label("Token").fill(token)
    dialog.get_by_role("button", name="Use token").click()
    expect(page.locator("#clock-now")).to_contain_text("Mock time")
    expect(page.locator("#fixture-list")).to_contain_text("approval-required")
    assert page.evaluate("sessionStorage.getItem('mockserver.adminToken')") == token

    asked = len(refused)
    page.reload()
    expect(page.locator("#clock-now")).to_contain_text("Mock time")
    expect(dialog).to_be_hidden()
    assert len(refused) == asked  # kept for the tab: not asked again
    admin_calls = [ex for ex in console.tap.exchanges if re.match(r"/__admin/(?!ui|docs|specs)", ex.path)]
    assert admin_calls and all(ex.headers.get("X-Mockserver-Admin-Token") == token for ex in admin_calls)
    assert all("Authorization" not in ex.headers for ex in admin_calls)


def test_a_declined_token_is_not_asked_for_again_until_the_header_button(console):
    page = console.page
    token = "another-token"

    def guard(route, request):
        if request.headers.get("x-mockserver-admin-token") == token:
            route.continue_()
        else:
            route.fulfill(
                status=401, content_type="application/json", body='{"error":"unauthorized","detail":"x","field":null}'
            )

    page.route(re.compile(r".*/__admin/(?!ui|docs|specs).*"), guard)
    page.goto(console.url + "/__admin/ui#faults")
    dialog = page.get_by_role("dialog", name="Admin token")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("status")).to_contain_text("needs the admin token")
    page.get_by_role("button", name="Refresh").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Admin token").click()
    dialog.get_by_label("Token").fill(token)
    dialog.get_by_role("button", name="Use token").click()
    expect(page.locator("#settings-summary")).to_contain_text("no added latency")


def test_keyboard_labels_and_a_narrow_window(console):
    page = console.open()
    expect(page.get_by_role("region", name=WEB)).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    button = page.get_by_role("region", name=WEB).get_by_role("button", name="Product tour")
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Product tour")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    unlabelled = """() => [...document.querySelectorAll('input, select, button, textarea')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map((el) => el.outerHTML)"""
    for view in ("experiments", "approvals", "journal", "faults", "state"):
        page.goto(f"{console.url}/__admin/ui#{view}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate(unlabelled) == [], view

    page.set_viewport_size({"width": 400, "height": 800})
    page.goto(f"{console.url}/__admin/ui#experiments")
    expect(page.get_by_role("region", name=WEB)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    console.screenshot("narrow")


def test_api_docs_try_it_out_calls_this_server(console):
    page = console.page
    page.goto(console.url + "/__admin/docs")
    expect(page.get_by_role("heading", name=re.compile("PostHog experiments API"))).to_be_visible()
    expect(page.locator(".servers select")).to_contain_text(console.url)
    console.screenshot("docs")
    page.locator(".topbar select").select_option(label="mockserver control API")
    operation = page.locator(".opblock").filter(has_text="/__admin/health").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    assert any(ex.path == "/__admin/health" and ex.headers.get("Referer") is None for ex in console.tap.exchanges)


@pytest.mark.parametrize("console", [{"admin_token": "docs-token"}], indirect=True)
def test_api_docs_opened_on_their_own_take_the_admin_token_in_a_field(console):
    """No console in this tab: a control-API call is 401 until the token is typed at the top, then
    carries it (to /__admin only); the console opened later in the tab knows it too."""
    page = console.page
    console.admin_failures.append(("GET", "/__admin/clock"))
    page.goto(console.url + "/__admin/docs")
    page.locator(".topbar select").select_option(label="mockserver control API")
    operation = page.locator(".opblock").filter(has_text="/__admin/clock").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("401")
    page.get_by_label("Admin token").fill("docs-token")
    operation.get_by_role("button", name="Execute").click()
    expect(status).to_have_text("200")
    clock_calls = [ex for ex in console.tap.exchanges if ex.path == "/__admin/clock"]
    assert [ex.status for ex in clock_calls] == [401, 200]
    assert clock_calls[-1].headers.get("X-Mockserver-Admin-Token") == "docs-token"
    assert page.evaluate("sessionStorage.getItem('mockserver.adminToken')") == "docs-token"
    page.goto(console.url + "/__admin/ui#state")
    expect(page.locator("#clock-now")).to_contain_text("Mock time")
    expect(page.get_by_role("dialog", name="Admin token")).to_be_hidden()


def seeded_experiment_count(console) -> int:
    """Experiments of both vendors in the seeded world, as the console counts them (archived included)."""
    data = requests.get(f"{console.url}/__admin/state", timeout=5).json()["data"]
    posthog = sum(1 for e in data["posthog"]["experiments"].values() if not e.get("deleted"))
    return posthog + len(data["launchdarkly"]["experiments"])


@pytest.mark.parametrize("console", [{"strict_auth": True}], indirect=True)
def test_under_strict_auth_the_console_registers_its_own_keys(console):
    page = console.open()
    expect(experiment_row(page, WEB, "Product tour")).to_contain_text("draft")
    expect(experiment_row(page, LD_PROD, "Search ranking test")).to_contain_text("running")
    keys = {k["key"]: k for k in requests.get(f"{console.url}/__admin/api-keys", timeout=5).json()["keys"]}
    assert keys["phx_mockserver_console"]["scopes"] == ["*"] and keys["api-mockserver-console"]["role"] == "admin"

    requests.post(f"{console.url}/__admin/reset", timeout=5)  # forgets registered keys
    console.expect_refusal("GET", "/api/projects/*/experiments/")
    console.expect_refusal("GET", "/api/v2/projects/*/experiments")
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator("#experiments-summary")).to_contain_text(f"of {seeded_experiment_count(console)} experiments")
    assert "phx_mockserver_console" in {
        k["key"] for k in requests.get(f"{console.url}/__admin/api-keys").json()["keys"]
    }
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Faults & settings").click()
    expect(page.get_by_role("checkbox", name=re.compile("No auth"))).to_be_disabled()
