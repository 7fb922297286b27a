# wait until the sidecar is healthy, then point the code under test at it
curl --retry 30 --retry-connrefused --retry-delay 1 -fsS http://127.0.0.1:8010/__admin/health
export POSTHOG_HOST=http://127.0.0.1:8010
curl -s -H 'Authorization: Bearer phx_ci' "$POSTHOG_HOST/api/projects/1/experiments/?limit=1"
