"""The specs are valid, and the fast path agrees with plain openapi-core on a corpus."""

from __future__ import annotations

import copy
import json
import re

import pytest
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate
from werkzeug.datastructures import Headers, MultiDict

from mockserver.core.contract import Contract, load_spec, merged_spec, specs_dir
from mockserver.core.problems import Problem
from tests.posthog.helpers import P

AUTH = {"Authorization": "Bearer phx_x"}


FRAGMENTS = tuple(sorted(p.stem for p in specs_dir().glob("*.admin.yaml")))


@pytest.mark.parametrize("name", sorted(p.stem for p in specs_dir().glob("*.yaml") if p.stem not in FRAGMENTS))
def test_spec_is_valid_openapi(name):
    """Each vendor's spec, and the control API's with every vendor fragment merged in."""
    validate(merged_spec(name, FRAGMENTS) if name == "admin" else load_spec(name))


@pytest.fixture(scope="module")
def posthog() -> Contract:
    return Contract("posthog")


def _path_args(template: str, path: str) -> dict[str, str]:
    pattern = "^" + re.sub(r"{([^}]+)}", r"(?P<\1>[^/]+)", template) + "$"
    match = re.match(pattern, path)
    assert match, (template, path)
    return match.groupdict()


def _fast_accepts(contract, op_id, path, query, content_type, body) -> bool:
    _method, template, _op, _item = contract.raw_operations[op_id]
    try:
        contract.validate_request(
            op_id, _path_args(template, path), MultiDict(query), Headers(AUTH), content_type, body
        )
    except Problem:
        return False
    return True


def _plain_accepts(contract, method, path, query, content_type, body) -> bool:
    request = MockRequest(
        "http://localhost", method.lower(), path, args=query, headers=AUTH, data=body, content_type=content_type
    )
    try:
        contract.openapi.validate_request(request)
    except OpenAPIError:
        return False
    return True


GOOD_CREATE = {"name": "A", "feature_flag_key": "a-key"}
REQUESTS = [
    # (operation, method, path, query, content type, body)
    ("experiments_list", "GET", f"{P}/experiments/", {}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"limit": "10"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"limit": "0"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"limit": "-5"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"limit": "abc"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"limit": ""}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"limit": "1.5"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"limit": "99999999999999999999"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"offset": "-1"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"offset": "5", "status": "whatever"}, None, b""),
    ("experiments_list", "GET", f"{P}/experiments/", {"archived": "1", "order": "-name"}, None, b""),
    ("experiments_retrieve", "GET", f"{P}/experiments/7/", {}, None, b""),
    ("experiments_retrieve", "GET", f"{P}/experiments/abc/", {}, None, b""),
    ("experiments_retrieve", "GET", f"{P}/experiments/0/", {}, None, b""),
    ("experiments_retrieve", "GET", f"{P}/experiments/-3/", {}, None, b""),
    ("experiments_create", "POST", f"{P}/experiments/", {}, "application/json", json.dumps(GOOD_CREATE).encode()),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json; charset=utf-8",
        json.dumps(GOOD_CREATE).encode(),
    ),
    ("experiments_create", "POST", f"{P}/experiments/", {}, "text/plain", json.dumps(GOOD_CREATE).encode()),
    ("experiments_create", "POST", f"{P}/experiments/", {}, "application/json", b""),
    ("experiments_create", "POST", f"{P}/experiments/", {}, "application/json", b"{nope"),
    ("experiments_create", "POST", f"{P}/experiments/", {}, "application/json", b"[]"),
    ("experiments_create", "POST", f"{P}/experiments/", {}, "application/json", b'{"name": "x"}'),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        b'{"name": 5, "feature_flag_key": "k"}',
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, start_date="not a date")).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, start_date="2026-01-02T03:04:05Z")).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, name="x" * 401)).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, type="desktop")).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(
            dict(
                GOOD_CREATE,
                metrics=[
                    {
                        "kind": "ExperimentMetric",
                        "metric_type": "mean",
                        "source": {"kind": "EventsNode", "event": "$pageview"},
                    }
                ],
            )
        ).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, metrics=[{"kind": "ExperimentTrendsQuery", "metric_type": "mean"}])).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, metrics=[{"metric_type": "median"}])).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, holdout_id="3")).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, saved_metrics_ids=[{"metadata": {"type": "primary"}}])).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, conclusion="maybe")).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(
            dict(GOOD_CREATE, parameters={"feature_flag_variants": [{"key": "control", "split_percent": 50}]})
        ).encode(),
    ),
    (
        "experiments_create",
        "POST",
        f"{P}/experiments/",
        {},
        "application/json",
        json.dumps(dict(GOOD_CREATE, big=10**30)).encode(),
    ),
    ("experiments_partial_update", "PATCH", f"{P}/experiments/3/", {}, "application/json", b'{"deleted": true}'),
    ("experiments_partial_update", "PATCH", f"{P}/experiments/3/", {}, "application/json", b'{"deleted": "yes"}'),
    ("experiments_partial_update", "PATCH", f"{P}/experiments/3/", {}, "application/json", b'{"archived": null}'),
    ("experiments_partial_update", "PATCH", f"{P}/experiments/3/", {}, "application/json", b'{"description": null}'),
    ("experiments_partial_update", "PATCH", f"{P}/experiments/3/", {}, None, b""),
    ("experiments_update", "PUT", f"{P}/experiments/3/", {}, "application/json", b'{"name": "n"}'),
    ("experiments_end_create", "POST", f"{P}/experiments/3/end/", {}, "application/json", b'{"conclusion": "won"}'),
    ("experiments_end_create", "POST", f"{P}/experiments/3/end/", {}, "application/json", b'{"conclusion": "yay"}'),
    ("experiments_end_create", "POST", f"{P}/experiments/3/end/", {}, None, b""),
    ("experiments_ship_variant_create", "POST", f"{P}/experiments/3/ship_variant/", {}, "application/json", b"{}"),
    (
        "experiments_ship_variant_create",
        "POST",
        f"{P}/experiments/3/ship_variant/",
        {},
        "application/json",
        b'{"variant_key": "test", "release_to_everyone": "no"}',
    ),
    (
        "experiments_copy_to_project_create",
        "POST",
        f"{P}/experiments/3/copy_to_project/",
        {},
        "application/json",
        b'{"target_team_id": "2"}',
    ),
    (
        "experiments_copy_to_project_create",
        "POST",
        f"{P}/experiments/3/copy_to_project/",
        {},
        "application/json",
        b'{"target_team_id": 2}',
    ),
    (
        "experiments_timeseries_results_retrieve",
        "GET",
        f"{P}/experiments/3/timeseries_results/",
        {"metric_uuid": "u"},
        None,
        b"",
    ),
    (
        "experiments_timeseries_results_retrieve",
        "GET",
        f"{P}/experiments/3/timeseries_results/",
        {"metric_uuid": "u", "fingerprint": "f"},
        None,
        b"",
    ),
    (
        "experiments_recalculate_timeseries_create",
        "POST",
        f"{P}/experiments/3/recalculate_timeseries/",
        {},
        "application/json",
        b'{"metric": {}}',
    ),
    (
        "experiments_eligible_feature_flags_retrieve",
        "GET",
        f"{P}/experiments/eligible_feature_flags/",
        {"limit": "5", "active": "true"},
        None,
        b"",
    ),
    (
        "experiment_holdouts_create",
        "POST",
        f"{P}/experiment_holdouts/",
        {},
        "application/json",
        b'{"name": "h", "filters": [{"properties": [], "rollout_percentage": 10}]}',
    ),
    (
        "experiment_holdouts_create",
        "POST",
        f"{P}/experiment_holdouts/",
        {},
        "application/json",
        b'{"name": "h", "filters": [], "surprise": 1}',
    ),
    (
        "experiment_holdouts_create",
        "POST",
        f"{P}/experiment_holdouts/",
        {},
        "application/json",
        b'{"name": "h", "filters": [{"rollout_percentage": "ten"}]}',
    ),
    (
        "experiment_holdouts_partial_update",
        "PATCH",
        f"{P}/experiment_holdouts/1/",
        {},
        "application/json",
        b'{"description": null}',
    ),
    (
        "experiment_saved_metrics_create",
        "POST",
        f"{P}/experiment_saved_metrics/",
        {},
        "application/json",
        b'{"name": "m", "query": {"kind": "ExperimentMetric", "metric_type": "mean"}}',
    ),
    (
        "experiment_saved_metrics_create",
        "POST",
        f"{P}/experiment_saved_metrics/",
        {},
        "application/json",
        b'{"name": "m"}',
    ),
    (
        "experiment_saved_metrics_create",
        "POST",
        f"{P}/experiment_saved_metrics/",
        {},
        "application/json",
        b'{"name": "m", "query": "q"}',
    ),
    ("experiment_saved_metrics_list", "GET", f"{P}/experiment_saved_metrics/", {"offset": "x"}, None, b""),
]


@pytest.mark.parametrize("case", REQUESTS, ids=[f"{i}-{c[0]}" for i, c in enumerate(REQUESTS)])
def test_fast_request_path_agrees_with_openapi_core(posthog, case):
    op_id, method, path, query, content_type, body = case
    fast = _fast_accepts(posthog, op_id, path, query, content_type, body)
    plain = _plain_accepts(posthog, method, path, query, content_type, body)
    assert fast == plain, f"fast={'accepts' if fast else 'rejects'}, openapi-core={'accepts' if plain else 'rejects'}"


def test_corpus_has_both_outcomes(posthog):
    outcomes = {_fast_accepts(posthog, c[0], c[2], c[3], c[4], c[5]) for c in REQUESTS}
    assert outcomes == {True, False}


def _plain_response_ok(contract, method, path, status, content_type, body) -> bool:
    request = MockRequest("http://localhost", method.lower(), path, headers=AUTH)
    response = MockResponse(body, status_code=status, content_type=content_type)
    try:
        contract.openapi.validate_response(request, response)
    except OpenAPIError:
        return False
    return True


def _mutations(body: dict) -> list[tuple[str, object]]:
    """Valid response bodies bent in the ways a buggy mock could bend them."""
    out: list[tuple[str, object]] = [("as-is", body)]
    for key in list(body)[:40]:
        dropped = copy.deepcopy(body)
        dropped.pop(key)
        out.append((f"drop {key}", dropped))
        nulled = copy.deepcopy(body)
        nulled[key] = None
        out.append((f"null {key}", nulled))
        typed = copy.deepcopy(body)
        typed[key] = {"unexpected": "object"} if not isinstance(body[key], dict) else "text"
        out.append((f"retype {key}", typed))
    return out


@pytest.fixture(scope="module")
def sample_responses():
    from mockserver.app import create_app
    from tests.conftest import PH_KEY, make_settings

    client = create_app(make_settings()).test_client()
    samples = []
    for op_id, method, path in (
        ("experiments_retrieve", "GET", f"{P}/experiments/4/"),
        ("experiment_holdouts_retrieve", "GET", f"{P}/experiment_holdouts/1/"),
        ("experiment_saved_metrics_retrieve", "GET", f"{P}/experiment_saved_metrics/1/"),
        ("experiments_stats_retrieve", "GET", f"{P}/experiments/stats/"),
        ("experiments_retrieve", "GET", f"{P}/experiments/99999/"),
    ):
        response = client.open(path, method=method, headers=PH_KEY)
        samples.append((op_id, method, path, response.status_code, response.get_json()))
    return samples


def test_fast_response_check_agrees_with_openapi_core(posthog, sample_responses):
    disagreements = []
    checked = 0
    for op_id, method, path, status, body in sample_responses:
        for label, variant in _mutations(body):
            for code in (status, 418):
                raw = json.dumps(variant).encode()
                fast = not posthog.response_problems(op_id, code, "application/json", variant)
                plain = _plain_response_ok(posthog, method, path, code, "application/json", raw)
                checked += 1
                if fast != plain:
                    disagreements.append(f"{op_id} {code} {label}: fast={fast} openapi-core={plain}")
        fast_ct = not posthog.response_problems(op_id, status, "text/html", body)
        plain_ct = _plain_response_ok(posthog, method, path, status, "text/html", json.dumps(body).encode())
        assert fast_ct == plain_ct
    assert checked > 300
    assert not disagreements, "\n".join(disagreements[:20])
