"""Flag statuses: new, active, inactive, launched; per environment, across environments, and listed."""

from __future__ import annotations

from datetime import timedelta

from tests.launchdarkly.helpers import applied, create_flag, runtime_of

STATUSES = "/api/v2/flag-statuses/default"


def status(client, flag: str, env: str = "production") -> dict:
    response = client.get(f"{STATUSES}/{env}/{flag}")
    assert response.status_code == 200, response.text
    return response.json()


def test_seeded_statuses(ld_api):
    launched = status(ld_api, "pricing-page-layout")
    assert launched["name"] == "launched" and launched["lastRequested"].endswith("Z")
    assert launched["default"] == "compact"
    assert launched["_links"]["self"]["href"] == f"{STATUSES}/production/pricing-page-layout"
    assert launched["_links"]["parent"]["href"] == f"{STATUSES}/production"
    experimenting = status(ld_api, "search-ranking-v2")
    assert experimenting["name"] == "active", "a running experiment serves several variations"
    assert status(ld_api, "dark-mode-default")["name"] == "inactive"  # off and not asked for in a while
    assert status(ld_api, "dark-mode-default", "test")["name"] == "active"  # targets serve another variation
    assert status(ld_api, "holiday-banner")["name"] == "inactive"
    never = ld_api.get("/api/v2/flag-statuses/mobile-app/test/app-rating-request").json()
    assert never == {
        "name": "inactive",
        "_links": {
            "parent": {"href": "/api/v2/flag-statuses/mobile-app/test", "type": "application/json"},
            "self": {"href": "/api/v2/flag-statuses/mobile-app/test/app-rating-request", "type": "application/json"},
        },
    }


def test_new_flag_is_new_then_inactive(ld):
    create_flag(ld, "fresh")
    assert status(ld, "fresh")["name"] == "new"
    runtime_of(ld).clock.advance(timedelta(days=8))
    assert status(ld, "fresh")["name"] == "inactive"


def test_recent_changes_make_a_launched_flag_active(ld):
    applied(ld, "pricing-page-layout", {"kind": "updateRuleDescription", "ruleId": _rule(ld), "description": "Changed"})
    assert status(ld, "pricing-page-layout")["name"] == "active"
    runtime_of(ld).clock.advance(timedelta(days=8))
    assert status(ld, "pricing-page-layout")["name"] == "inactive", "nothing asked for it in the week since"


def _rule(client) -> str:
    flag = client.get("/api/v2/flags/default/pricing-page-layout").json()
    return flag["environments"]["production"]["rules"][0]["_id"]


def test_statuses_list_and_across_environments(ld_api):
    listing = ld_api.get(f"{STATUSES}/production")
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert body["_links"]["self"]["href"] == f"{STATUSES}/production"
    hrefs = [item["_links"]["self"]["href"].rsplit("/", 1)[1] for item in body["items"]]
    assert hrefs == sorted(hrefs) and "holiday-banner" in hrefs and len(hrefs) == 8
    assert {item["name"] for item in body["items"]} <= {"new", "active", "inactive", "launched"}
    across = ld_api.get("/api/v2/flag-status/default/dark-mode-default").json()
    assert across["key"] == "dark-mode-default" and set(across["environments"]) == {"production", "test"}
    assert across["environments"]["production"]["name"] == "inactive"
    assert across["_links"]["self"]["href"] == "/api/v2/flag-status/default/dark-mode-default"
    only = ld_api.get("/api/v2/flag-status/default/dark-mode-default?env=test").json()
    assert set(only["environments"]) == {"test"}


def test_status_not_found(ld_api):
    assert ld_api.get(f"{STATUSES}/staging").status_code == 404
    assert ld_api.get(f"{STATUSES}/production/ghost").status_code == 404
    assert ld_api.get("/api/v2/flag-statuses/nope/production").status_code == 404
    assert ld_api.get("/api/v2/flag-status/default/ghost").status_code == 404
