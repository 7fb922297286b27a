import asyncio

import httpx
import requests

# app code that knows nothing of the mock: it is given a base URL


def experiment_names(base_url: str) -> list[str]:
    page = requests.get(f"{base_url}/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_app"})
    return [e["name"] for e in page.json()["results"]]


async def flag_keys(base_url: str) -> list[str]:
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": "api-app"}) as client:
        page = await client.get("/api/v2/projects/default/environments/production/experiments")
        return [item["key"] for item in page.json()["items"]]


# the test: no socket, the same pipeline (auth, contract checks, faults, journal)
def test_in_process(mockserver_app):
    assert mockserver_app.url == "http://mockserver.invalid"
    assert len(experiment_names(mockserver_app.url)) == 12
    assert "checkout-button-test" in asyncio.run(flag_keys(mockserver_app.url))
    mockserver_app.requests.assert_called_once("GET", "experiments_list")
