"""/__admin/clock: freeze, advance, unfreeze, and what the vendors then stamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mockserver.admin.clock import parse_duration


def test_freeze_advance_unfreeze(make_client):
    client = make_client(now=None)
    assert client.get("/__admin/clock").json()["frozen"] is False
    frozen = client.post("/__admin/clock/freeze", json_body={"at": "2031-05-06T07:08:09Z"})
    assert frozen.json() == {"now": "2031-05-06T07:08:09Z", "frozen": True}
    assert client.post("/__admin/clock/advance", json_body={"seconds": 90}).json()["now"] == "2031-05-06T07:09:39Z"
    assert (
        client.post("/__admin/clock/advance", json_body={"duration": "P1DT1H"}).json()["now"] == "2031-05-07T08:09:39Z"
    )
    assert (
        client.post("/__admin/clock/advance", json_body={"duration": "-1h30m"}).json()["now"] == "2031-05-07T06:39:39Z"
    )
    real = client.post("/__admin/clock/unfreeze").json()
    assert real["frozen"] is False
    assert abs(datetime.fromisoformat(real["now"].replace("Z", "+00:00")) - datetime.now(UTC)) < timedelta(seconds=5)


def test_freeze_without_an_instant_stops_at_the_current_time(make_client):
    client = make_client(now=None)
    body = client.post("/__admin/clock/freeze").json()
    assert body["frozen"] is True
    assert client.get("/__admin/clock").json()["now"] == body["now"]


def test_vendors_stamp_with_the_mock_clock(make_client):
    client = make_client()
    client.post("/__admin/clock/freeze", json_body={"at": "2030-02-03T04:05:06Z"})
    created = client.post("/api/projects/1/experiments/", json_body={"name": "Clocked", "feature_flag_key": "clk"})
    assert created.json()["created_at"].startswith("2030-02-03T04:05:06")
    client.post("/__admin/clock/advance", json_body={"duration": "2d"})
    launched = client.post(f"/api/projects/1/experiments/{created.json()['id']}/launch/")
    assert launched.json()["start_date"].startswith("2030-02-05T04:05:06")


def test_reset_puts_the_clock_back_to_the_start_setting(make_client):
    client = make_client()  # started with --now 2026-11-20T12:00:00Z
    client.post("/__admin/clock/advance", json_body={"duration": "3d"})
    client.post("/__admin/reset")
    assert client.get("/__admin/clock").json() == {"now": "2026-11-20T12:00:00Z", "frozen": True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "seconds"),
        ({"seconds": 1, "duration": "1s"}, "seconds"),
        ({"duration": "soon"}, "duration"),
        ({"seconds": "ten"}, "seconds"),
        ({"minutes": 3}, "minutes"),
    ],
)
def test_bad_advance_is_400_naming_the_field(make_client, body, field):
    response = make_client().post("/__admin/clock/advance", json_body=body)
    assert response.status_code == 400 and response.json()["field"] == field


def test_bad_freeze_instant_is_400(make_client):
    response = make_client().post("/__admin/clock/freeze", json_body={"at": "noon"})
    assert response.status_code == 400 and response.json()["field"] == "at"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P2D", timedelta(days=2)),
        ("P1W", timedelta(weeks=1)),
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("250ms", timedelta(milliseconds=250)),
        ("-2d", timedelta(days=-2)),
        ("PT0.5S", timedelta(seconds=0.5)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "1x", "h", "1h 30m"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/__admin/clock/advance", {"seconds": -1.7976931348623155e308}, "seconds"),
        ("/__admin/clock/advance", {"seconds": 1e12}, "seconds"),
        ("/__admin/clock/advance", {"duration": "999999999999d"}, "duration"),
        ("/__admin/clock/advance", {"duration": "-3000000d"}, "duration"),
        ("/__admin/clock/freeze", {"at": "0001-01-01T00:00:00+01:00"}, "at"),
        ("/__admin/clock/freeze", {"at": "9999-12-31T23:59:59Z"}, "at"),
    ],
)
def test_out_of_range_times_are_a_400_and_leave_the_clock_alone(make_client, path, body, field):
    """Found by the fuzzer: these overflowed datetime arithmetic and answered 500."""
    client = make_client()
    before = client.get("/__admin/clock").json()
    response = client.post(path, json_body=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert client.get("/__admin/clock").json() == before
