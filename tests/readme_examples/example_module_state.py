import pytest
import requests

HEADERS = {"Authorization": "Bearer phx_test"}


@pytest.fixture(scope="module")
def catalogue(mockserver_session):
    """Built once per module through the API, kept as a state document."""
    mockserver_session.reset()
    for n in range(3):
        body = {"name": f"Catalogue {n}", "feature_flag_key": f"catalogue-{n}"}
        requests.post(f"{mockserver_session.posthog_url}/experiments/", headers=HEADERS, json=body)
    return mockserver_session.export()


def test_starts_from_the_catalogue(mockserver, catalogue):
    mockserver.load(catalogue)  # every test starts from it (a PUT of the document)
    names = [e["name"] for e in mockserver.state()["posthog"]["experiments"].values()]
    assert {"Catalogue 0", "Catalogue 1", "Catalogue 2"} <= set(names)
