mockserver serve --latency 50-200 --no-auth &

# what the browser does: a preflight, then the call itself (no key needed with --no-auth)
curl --retry 30 --retry-connrefused --retry-delay 1 -fsS -o /dev/null http://127.0.0.1:8010/__admin/health
curl -s -o /dev/null -D - -X OPTIONS http://127.0.0.1:8010/api/projects/1/experiments/ \
  -H 'Origin: http://localhost:5173' -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type'
curl -s -X POST http://127.0.0.1:8010/api/projects/1/experiments/ -H 'Origin: http://localhost:5173' \
  -H 'Content-Type: application/json' -d '{"name": "From the browser", "feature_flag_key": "from-browser"}'
