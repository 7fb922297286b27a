import requests

from mockserver import Client
from mockserver.app import create_app
from mockserver.core.settings import Settings
from mockserver.transports import route_to_app

app = create_app(Settings(seed=7))
with route_to_app(app, "http://mock.test"):
    mock = Client.in_process(app, "http://mock.test")
    listed = requests.get("http://mock.test/api/projects/1/experiments/", headers={"Authorization": "Bearer phx_x"})
    assert listed.status_code == 200
    mock.requests.assert_called_once("GET", "experiments_list")
