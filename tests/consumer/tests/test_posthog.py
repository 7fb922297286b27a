import pytest
from shop.experiments import UpstreamError


def test_lists_running_experiments_across_pages(posthog, mockserver):
    running = posthog.running()
    assert [e["status"] for e in running] == ["running"] * 4
    mockserver.requests.assert_called("GET", "experiments_list", times=2, query={"status": "running"})


def test_creates_then_launches(posthog, mockserver):
    draft = posthog.create_draft("Checkout copy", "checkout-copy")
    assert posthog.launch(draft["id"]) == "launched"
    assert posthog.get(draft["id"])["status"] == "running"
    mockserver.requests.assert_called_once("POST", "experiments_create", status=201, json={"name": "Checkout copy"})
    mockserver.requests.assert_called_once("POST", "/api/projects/1/experiments/*/launch/", status=200)


def test_the_mock_refuses_what_posthog_refuses(posthog):
    draft = posthog.create_draft("Twice", "twice")
    assert posthog.launch(draft["id"]) == "launched"
    with pytest.raises(UpstreamError, match="already"):
        posthog.launch(draft["id"])


def test_retries_a_transient_outage(posthog, mockserver):
    mockserver.add_fault(operation_id="experiments_retrieve", status=503, times=2)
    assert posthog.get(4)["id"] == 4
    mockserver.requests.assert_called("GET", "experiments_retrieve", times=3)


def test_gives_up_when_the_connection_keeps_dropping(posthog, mockserver):
    mockserver.add_fault(operation_id="experiments_retrieve", drop_connection=True)
    with pytest.raises(UpstreamError, match="connection failed"):
        posthog.get(4)


@pytest.mark.mockserver(fixture="approval-required")
def test_a_gated_launch_waits_for_approval(posthog, mockserver):
    assert posthog.launch(1) == "needs-approval"
    (change,) = mockserver.posthog.change_requests(state="pending")
    assert mockserver.posthog.approve(change["id"])["state"] == "applied"
    assert posthog.get(1)["status"] == "running"


@pytest.mark.mockserver(fixture="empty.json")  # beside this file
def test_starts_from_a_local_fixture(posthog):
    assert posthog.running() == []


def test_time_travel(posthog, mockserver):
    mockserver.freeze_time("2030-01-01T00:00:00Z")
    draft = posthog.create_draft("Later", "later")
    assert draft["created_at"].startswith("2030-01-01T00:00:00")
