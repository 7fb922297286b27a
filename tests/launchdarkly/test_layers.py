"""Layers: mutually exclusive traffic, the reservations experiments take, and the snapshot an iteration keeps."""

from __future__ import annotations

from tests.launchdarkly.helpers import BASE, ENV, PROJECT, SEMANTIC, create, patch, refused

L = f"/api/v2/projects/{PROJECT}/layers"


def reserve(client, layer: str, experiment: str, percent: int, env: str = ENV, content_type: str | None = None):
    body = {
        "environmentKey": env,
        "instructions": [
            {"kind": "updateExperimentReservation", "experimentKey": experiment, "reservationPercent": percent}
        ],
    }
    if content_type:
        import json

        return client.patch(f"{L}/{layer}", data=json.dumps(body), content_type=content_type)
    return client.patch(f"{L}/{layer}", json_body=body)


def test_create_list_and_rename(ld_api):
    created = ld_api.post(L, json_body={"key": "checkout", "name": "Checkout", "description": "Payment steps"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["environments"] == {"production": {"reservations": []}, "test": {"reservations": []}}
    assert "randomizationUnit" not in body
    listed = ld_api.get(L).json()
    assert [layer["key"] for layer in listed["items"]] == ["checkout-flow", "checkout"] and listed["totalCount"] == 2
    renamed = ld_api.patch(
        f"{L}/checkout",
        json_body={
            "instructions": [{"kind": "updateName", "name": "Pay"}, {"kind": "updateDescription", "description": ""}]
        },
    )
    assert renamed.json()["name"] == "Pay" and renamed.json()["description"] == ""
    assert "already exists" in refused(
        ld_api.post(L, json_body={"key": "checkout", "name": "x", "description": ""}), 400
    )
    refused(ld_api.post("/api/v2/projects/nope/layers", json_body={"key": "k", "name": "x", "description": ""}), 404)
    refused(ld_api.patch(f"{L}/nope", json_body={"instructions": [{"kind": "updateName", "name": "x"}]}), 404)


def test_filter_by_experiment(ld):
    ld.post(L, json_body={"key": "empty", "name": "Empty", "description": ""})
    found = ld.get(f"{L}?filter=reservations.experimentKey contains pricing-layout-test").json()["items"]
    assert [layer["key"] for layer in found] == ["checkout-flow"]
    assert ld.get(f"{L}?filter=reservations.experimentKey contains nothing").json()["items"] == []
    refused(ld.get(f"{L}?filter=colour equals red"), 400)


def test_reservations_and_their_rules(ld_api):
    ld_api.post(L, json_body={"key": "pay", "name": "Pay", "description": ""})
    create(ld_api, "exp-a", flag_key="dark-mode-default")
    create(ld_api, "exp-b", flag_key="free-shipping-threshold")
    taken = reserve(ld_api, "pay", "exp-a", 60, content_type=SEMANTIC)
    assert taken.status_code == 200, taken.text
    body = taken.json()
    assert body["randomizationUnit"] == "user"
    assert body["environments"][ENV]["reservations"] == [
        {"experimentKey": "exp-a", "flagKey": "dark-mode-default", "reservationPercent": 60}
    ]
    assert "would total 110%" in refused(reserve(ld_api, "pay", "exp-b", 50), 400)
    assert reserve(ld_api, "pay", "exp-b", 40).status_code == 200
    assert "already has a reservation in layer 'pay'" in refused(reserve(ld_api, "checkout-flow", "exp-a", 1), 400)
    assert "environmentKey" in refused(
        ld_api.patch(f"{L}/pay", json_body={"instructions": [{"kind": "removeExperiment", "experimentKey": "exp-a"}]}),
        400,
    )
    assert "unknown experiment" in refused(reserve(ld_api, "pay", "nope", 1), 400)
    assert "integer from 0 to 100" in refused(reserve(ld_api, "pay", "exp-b", 101), 400)
    removed = ld_api.patch(
        f"{L}/pay",
        json_body={"environmentKey": ENV, "instructions": [{"kind": "removeExperiment", "experimentKey": "exp-b"}]},
    )
    assert [r["experimentKey"] for r in removed.json()["environments"][ENV]["reservations"]] == ["exp-a"]


def test_a_layer_keeps_one_randomization_unit(ld):
    ld.post(L, json_body={"key": "pay", "name": "Pay", "description": ""})
    create(ld, "by-user", flag_key="dark-mode-default")
    create(ld, "by-org", flag_key="free-shipping-threshold", unit="organization")
    reserve(ld, "pay", "by-user", 10)
    assert "randomizes by 'user'" in refused(reserve(ld, "pay", "by-org", 10), 400)


def test_zero_is_allowed_until_the_iteration_starts(ld):
    ld.post(L, json_body={"key": "pay", "name": "Pay", "description": ""})
    create(ld, "zero", flag_key="recommendations-widget", allocations=("50", "50"))
    assert reserve(ld, "pay", "zero", 0).status_code == 200
    assert "reserves 0%" in refused(patch(ld, "zero", {"kind": "startIteration"}), 400)
    assert ld.get(f"{BASE}/zero").json()["currentIteration"]["status"] == "not_started"
    reserve(ld, "pay", "zero", 25)
    started = patch(ld, "zero", {"kind": "startIteration"})
    assert started.status_code == 200
    assert started.json()["currentIteration"]["layerSnapshot"] == {
        "key": "pay",
        "name": "Pay",
        "reservationPercent": 25,
        "otherReservationPercent": 0,
    }
    assert "is running" in refused(reserve(ld, "pay", "zero", 30), 400)
    assert reserve(ld, "pay", "zero", 25).status_code == 200  # unchanged is fine
    assert "is running" in refused(
        ld.patch(
            f"{L}/pay",
            json_body={"environmentKey": ENV, "instructions": [{"kind": "removeExperiment", "experimentKey": "zero"}]},
        ),
        400,
    )


def test_instructions_apply_all_or_nothing(ld):
    before = ld.get(L).json()
    failing = {
        "environmentKey": ENV,
        "instructions": [
            {"kind": "updateName", "name": "Kept?"},
            {"kind": "updateExperimentReservation", "experimentKey": "onboarding-flow-test", "reservationPercent": 90},
        ],
    }
    assert "would total" in refused(ld.patch(f"{L}/checkout-flow", json_body=failing), 400)
    assert ld.get(L).json() == before
    assert "unknown kind" in refused(ld.patch(f"{L}/checkout-flow", json_body={"instructions": [{"kind": "x"}]}), 400)
    refused(ld.patch(f"{L}/checkout-flow", json_body={"instructions": []}), 400)


def test_seeded_running_snapshot(ld):
    started = patch(ld, "onboarding-flow-test", {"kind": "startIteration"})
    snapshot = started.json()["currentIteration"]["layerSnapshot"]
    assert snapshot == {
        "key": "checkout-flow",
        "name": "Checkout flow",
        "reservationPercent": 50,
        "otherReservationPercent": 30,
    }
