# Make the next experiment read fail once, then look at what happened
curl -s -X POST http://127.0.0.1:8010/__admin/faults -H 'Content-Type: application/json' \
  -d '{"method": "GET", "path": "/api/projects/1/experiments/*", "status": 503, "times": 1}'
curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer phx_dev' http://127.0.0.1:8010/api/projects/1/experiments/4/
curl -s -o /dev/null -w '%{http_code}\n' -H 'Authorization: Bearer phx_dev' http://127.0.0.1:8010/api/projects/1/experiments/4/
curl -s 'http://127.0.0.1:8010/__admin/requests?operation_id=experiments_retrieve&status=503'

# Time travel
curl -s -X POST http://127.0.0.1:8010/__admin/clock/freeze -H 'Content-Type: application/json' -d '{"at": "2030-01-01T00:00:00Z"}'
curl -s -X POST http://127.0.0.1:8010/__admin/clock/advance -H 'Content-Type: application/json' -d '{"duration": "P14D"}'

# Save the state, switch scenario, put it back, start over
curl -s http://127.0.0.1:8010/__admin/state > saved-state.json
curl -s -X POST http://127.0.0.1:8010/__admin/fixtures/approval-required/load
curl -s -X PUT http://127.0.0.1:8010/__admin/state -H 'Content-Type: application/json' --data-binary @saved-state.json
curl -s -X POST http://127.0.0.1:8010/__admin/reset
