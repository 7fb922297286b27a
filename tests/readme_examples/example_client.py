import os

from mockserver import Client

mock = Client(os.environ.get("MOCKSERVER_URL", "http://127.0.0.1:8010"), os.environ.get("MOCKSERVER_ADMIN_TOKEN"))
mock.reset()
mock.load("approval-required")  # a named fixture, a file, or a state document (dict)
mock.add_fault(operation_id="experiments_retrieve", status=503, times=1)
mock.posthog.approval_policy("experiment.update", quorum=1)
mock.launchdarkly.rate_limit(100, window_seconds=10)
print(mock.health()["seed"], len(mock.requests), mock.posthog_url)
