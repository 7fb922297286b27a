# mockserver as a sidecar: the PostHog and LaunchDarkly mock on port 8010.
#   docker build -t mockserver .
#   docker run --rm -p 8010:8010 -e MOCKSERVER_FIXTURE=approval-required mockserver
# Every setting is a MOCKSERVER_* variable (MOCKSERVER_SEED, MOCKSERVER_LATENCY, MOCKSERVER_NO_AUTH,
# MOCKSERVER_CORS_ORIGINS, MOCKSERVER_STATE_FILE, MOCKSERVER_JOURNAL_SIZE, MOCKSERVER_THREADS, ...).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY mockserver ./mockserver
COPY specs ./specs
COPY fixtures ./fixtures
RUN pip install . && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /data --create-home mockserver
USER mockserver
WORKDIR /data

# Parse the specs and seed the default world once, into /data/.cache/mockserver: the container
# then starts without parsing YAML or running Faker (a volume mounted over /data only costs that).
RUN python -c "from mockserver.app import create_app; create_app()"

# Inside the container the mock listens on all interfaces; the state file (if used) goes to /data.
ENV MOCKSERVER_HOST=0.0.0.0 \
    MOCKSERVER_PORT=8010 \
    MOCKSERVER_SEED=42 \
    MOCKSERVER_LOG_LEVEL=INFO
EXPOSE 8010

HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/__admin/health' % os.environ.get('MOCKSERVER_PORT', '8010'), timeout=2)"]

# waitress, one process with a thread pool; SIGTERM (docker stop) exits cleanly with status 0.
STOPSIGNAL SIGTERM
CMD ["mockserver", "serve"]
