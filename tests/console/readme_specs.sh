curl -s http://127.0.0.1:8010/__admin/specs                  # the list of URLs below
curl -s -o posthog.yaml http://127.0.0.1:8010/__admin/specs/posthog.yaml
curl -s -o launchdarkly.json http://127.0.0.1:8010/__admin/specs/launchdarkly.json
curl -s -o admin.yaml http://127.0.0.1:8010/__admin/specs/admin.yaml
