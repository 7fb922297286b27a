"""List endpoints: pagination, filters, ordering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mockserver.app import create_app
from mockserver.core import documents
from mockserver.vendors.posthog import listing
from tests.conftest import make_settings
from tests.posthog.helpers import P, assert_error, create, create_saved_metric, mean, variants


def test_pagination_links_are_absolute_and_complete(api):
    first = api.get(f"{P}/experiments/?limit=5").json()
    total = first["count"]
    assert total >= 12 and len(first["results"]) == 5
    assert first["previous"] is None and first["next"].endswith("/api/projects/1/experiments/?limit=5&offset=5")
    assert first["next"].startswith("http://")
    seen = [e["id"] for e in first["results"]]
    url = first["next"]
    while url:
        page = api.get(url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])).json()
        seen += [e["id"] for e in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == total
    second = api.get(f"{P}/experiments/?limit=5&offset=5").json()
    assert second["previous"].endswith("/experiments/?limit=5")
    third = api.get(f"{P}/experiments/?limit=5&offset=10").json()
    assert third["previous"].endswith("/experiments/?limit=5&offset=5")


@pytest.mark.parametrize("route", ["experiments", "experiment_holdouts", "experiment_saved_metrics", "feature_flags"])
@pytest.mark.parametrize("query", ["limit=0", "limit=-3", "offset=-10", "limit=0&offset=-1"])
def test_a_limit_below_one_or_a_negative_offset_falls_back_as_in_drf(api, route, query):
    """DRF's LimitOffsetPagination reads them as "not given" (default page size 100, offset 0)."""
    fallback = api.get(f"{P}/{route}/?{query}")
    assert fallback.status_code == 200, fallback.text
    plain = api.get(f"{P}/{route}/").json()
    assert fallback.json()["results"] == plain["results"] and fallback.json()["count"] == plain["count"]
    assert fallback.json()["previous"] is None


def test_a_fallen_back_limit_is_the_one_the_links_carry(api):
    for n in range(101):
        create_saved_metric(api, f"fallback {n}")
    page = api.get(f"{P}/experiment_saved_metrics/?limit=0&search=fallback").json()
    assert len(page["results"]) == 100 and page["count"] == 101
    assert "limit=100" in page["next"] and "offset=100" in page["next"] and "search=fallback" in page["next"]


def test_status_filters_match_computed_status(api):
    everything = api.get(f"{P}/experiments/?limit=100").json()["results"]
    for status in ("draft", "running", "paused", "stopped"):
        rows = api.get(f"{P}/experiments/?status={status}").json()["results"]
        assert rows and all(r["status"] == status for r in rows)
        assert len(rows) == sum(1 for r in everything if r["status"] == status)
    complete = api.get(f"{P}/experiments/?status=complete").json()["results"]
    assert {r["id"] for r in complete} == {r["id"] for r in everything if r["status"] == "stopped"}
    unknown = api.get(f"{P}/experiments/?status=sideways").json()
    assert unknown["count"] == len(everything)


def test_archived_search_creator_flag_and_order(api):
    archived = api.get(f"{P}/experiments/?archived=true").json()["results"]
    assert archived and all(r["archived"] for r in archived)
    assert all(not r["archived"] for r in api.get(f"{P}/experiments/?archived=1").json()["results"])
    one = api.get(f"{P}/experiments/?limit=1").json()["results"][0]
    found = api.get(f"{P}/experiments/?search={one['name'][:6].lower()}").json()["results"]
    assert one["id"] in [r["id"] for r in found]
    by_creator = api.get(f"{P}/experiments/?created_by_id={one['created_by']['id']}").json()["results"]
    assert by_creator and all(r["created_by"]["id"] == one["created_by"]["id"] for r in by_creator)
    by_flag = api.get(f"{P}/experiments/?feature_flag_id={one['feature_flag']['id']}").json()["results"]
    assert [r["id"] for r in by_flag] == [one["id"]]
    assert_error(api.get(f"{P}/experiments/?feature_flag_id=abc"), 400, "feature_flag_id must be an integer")
    names = [r["name"].lower() for r in api.get(f"{P}/experiments/?order=name").json()["results"]]
    assert names == sorted(names)
    created = [r["created_at"] for r in api.get(f"{P}/experiments/").json()["results"]]
    assert created == sorted(created, reverse=True)
    assert_error(api.get(f"{P}/experiments/?order=colour"), 400, "Invalid order field: 'colour'", "invalid_input")
    for field in ("created_by", "updated_at", "start_date", "end_date", "duration", "-status"):
        assert api.get(f"{P}/experiments/?order={field}").status_code == 200


def test_search_applies_to_detail_routes(api):
    one = api.get(f"{P}/experiments/?limit=1").json()["results"][0]
    assert api.get(f"{P}/experiments/{one['id']}/?search=zzzzzz").status_code == 404
    assert api.get(f"{P}/experiments/{one['id']}/?search={one['name'][:3]}").status_code == 200


def test_project_scoping_and_current(api):
    current = api.get("/api/projects/@current/experiments/").json()
    assert current["count"] == api.get(f"{P}/experiments/").json()["count"]
    other = api.get("/api/projects/2/experiments/").json()
    assert other["count"] >= 1
    assert not {r["id"] for r in other["results"]} & {r["id"] for r in current["results"]}
    foreign = other["results"][0]["id"]
    assert_error(api.get(f"{P}/experiments/{foreign}/"), 404, "Not found.")
    assert_error(api.get("/api/projects/404/experiments/"), 404, "Project not found.")
    assert_error(api.get("/api/projects/abc/experiments/"), 404, "Project not found.")


def test_a_remembered_list_page_follows_every_write(api):
    """Pages render once until the next write: a rename shows on the very next read."""
    first = api.get(f"{P}/experiments/?limit=3").json()
    assert api.get(f"{P}/experiments/?limit=3").json() == first
    target = first["results"][1]["id"]
    assert api.patch(f"{P}/experiments/{target}/", json_body={"name": "Renamed for the page"}).status_code == 200
    again = api.get(f"{P}/experiments/?limit=3").json()["results"]
    assert [r["name"] for r in again if r["id"] == target] == ["Renamed for the page"]
    assert api.get(f"{P}/experiments/?limit=3&offset=3").json()["results"] != again


def test_the_import_check_of_orderings_fails_where_a_listing_would():
    """check_orderings() (run on every loaded state) raises exactly when some order of the list would."""
    app = create_app(make_settings())
    state = documents.export(app.extensions["mockserver"])["data"]["posthog"]
    now = datetime(2026, 11, 20, tzinfo=UTC)
    listing.check_orderings(state, 1, now)
    team = [e for e in state["experiments"].values() if e["team_id"] == 1 and not e.get("deleted")]
    team[0]["start_date"], team[1]["start_date"] = 5, "2026-01-01T00:00:00Z"  # an int among dates
    with pytest.raises(TypeError):
        listing.listing(state, 1, {"order": "start_date"}, now)
    with pytest.raises(TypeError):
        listing.check_orderings(state, 1, now)


def _ids(api, url: str) -> set[int]:
    response = api.get(url)
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()["results"]}


def test_event_filter_finds_metrics_naming_the_event_directly_through_actions_or_shared_metrics(api):
    """PostHog's ``?event=``: inline primary and secondary metrics, linked shared metrics, and the
    step events of the project's live actions."""
    action = api.post(f"{P}/actions/", json_body={"name": "Bought twice", "steps": [{"event": "purchase_twice"}]})
    assert action.status_code == 201, action.text
    by_action = {
        "kind": "ExperimentMetric",
        "metric_type": "mean",
        "source": {"kind": "ActionsNode", "id": action.json()["id"]},
    }
    via_action = create(api, name="Via action", feature_flag_key="via-action", metrics=[by_action])
    secondary = create(
        api,
        name="Secondary",
        feature_flag_key="secondary",
        metrics_secondary=[mean("purchase_twice")],
        allow_unknown_events=True,
    )
    shared = create_saved_metric(api, "Twice", mean("purchase_twice"))
    linked = create(
        api,
        name="Linked",
        feature_flag_key="linked",
        saved_metrics_ids=[{"id": shared["id"], "metadata": {"type": "secondary"}}],
    )
    unrelated = create(api, name="Unrelated", feature_flag_key="unrelated", metrics=[mean("signed_up")])

    found = _ids(api, f"{P}/experiments/?event=purchase_twice")
    assert found == {via_action["id"], secondary["id"], linked["id"]}
    assert unrelated["id"] not in found
    assert _ids(api, f"{P}/experiments/?event=nothing-names-this") == set()
    assert _ids(api, f"{P}/experiment_saved_metrics/?event=purchase_twice") == {shared["id"]}

    assert _ids(api, f"{P}/experiments/?event=purchase_twice&search=via") == {via_action["id"]}
    assert _ids(api, f"{P}/experiments/?event=signed_up&search=unrelated") == {unrelated["id"]}


def test_prompt_name_filter_reads_the_prompt_metadata_of_parameters(api):
    params = {**variants(("control", 50), ("test", 50)), "prompt_metadata": {"name": "welcome-email"}}
    tagged = create(api, name="Prompted", feature_flag_key="prompted", parameters=params)
    assert _ids(api, f"{P}/experiments/?prompt_name=welcome-email") == {tagged["id"]}
    assert _ids(api, f"{P}/experiments/?prompt_name=Welcome-email") == set()  # an exact JSON match
    assert tagged["id"] in _ids(api, f"{P}/experiments/")


def test_shared_metric_search_matches_name_description_and_tags_term_by_term(api):
    assert _ids(api, f"{P}/experiment_saved_metrics/?search=activation") == {4}  # a tag of "Upgrade rate"
    assert _ids(api, f"{P}/experiment_saved_metrics/?search=UPGRADE") == {4}
    assert _ids(api, f"{P}/experiment_saved_metrics/?search=upgrade,activation") == {4}  # both terms match
    assert _ids(api, f"{P}/experiment_saved_metrics/?search=upgrade growth") == set()  # no metric has both
    assert _ids(api, f'{P}/experiment_saved_metrics/?search="rate per"') == set()  # a quoted phrase stays whole


def test_shared_metric_search_splits_terms_as_django_s_smart_split(api):
    """Quotes inside a word keep it whole; a quoted phrase keeps its comma (shlex took both apart)."""
    made = {name: create_saved_metric(api, name)["id"] for name in ("Rock'n'roll signups", "Conversion, by plan")}
    assert _ids(api, f"{P}/experiment_saved_metrics/?search=rock'n'roll") == {made["Rock'n'roll signups"]}
    assert _ids(api, f'{P}/experiment_saved_metrics/?search="conversion, by"') == {made["Conversion, by plan"]}
    assert _ids(api, f"{P}/experiment_saved_metrics/?search=conversion, by") >= {made["Conversion, by plan"]}


def test_a_shared_metric_name_is_unique_in_its_project_ignoring_case(api):
    before = api.get(f"{P}/experiment_saved_metrics/").json()["count"]
    taken = api.post(f"{P}/experiment_saved_metrics/", json_body={"name": "checkout CONVERSION", "query": mean()})
    assert_error(taken, 400, "A shared metric with this name already exists.", "invalid_input", attr="name")
    assert api.get(f"{P}/experiment_saved_metrics/").json()["count"] == before
    renamed = api.patch(f"{P}/experiment_saved_metrics/2/", json_body={"name": "UPGRADE RATE"})
    assert_error(renamed, 400, "A shared metric with this name already exists.", "invalid_input", attr="name")
    assert api.get(f"{P}/experiment_saved_metrics/2/").json()["name"] == "Revenue per user"
    same = api.patch(f"{P}/experiment_saved_metrics/2/", json_body={"name": "REVENUE per user"})  # itself: fine
    assert same.status_code == 200 and same.json()["name"] == "REVENUE per user"
    other_project = api.post(
        "/api/projects/2/experiment_saved_metrics/", json_body={"name": "Upgrade rate", "query": mean()}
    )
    assert other_project.status_code == 201, other_project.text
