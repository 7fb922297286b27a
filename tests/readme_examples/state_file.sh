mockserver serve --fixture running-experiments --state-file ./mock-state.db &
curl --retry 30 --retry-connrefused --retry-delay 1 -fsS -o /dev/null http://127.0.0.1:8010/__admin/health
curl -s -X POST http://127.0.0.1:8010/api/projects/1/experiments/4/pause/ -H 'Authorization: Bearer phx_dev'
