"""`mockserver serve | routes | fixtures | check | drift` (also `python -m mockserver`)."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from mockserver.core.settings import RESPONSE_VALIDATION_MODES, Settings, env_overrides


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; MOCKSERVER_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8010; 0 picks a free one; MOCKSERVER_PORT)")
    serve.add_argument("--seed", type=int, help="seed of the generated data (default 42; MOCKSERVER_SEED)")
    serve.add_argument("--now", help="freeze the clock at this ISO 8601 instant (MOCKSERVER_NOW)")
    serve.add_argument(
        "--response-validation",
        choices=RESPONSE_VALIDATION_MODES,
        help="what to do when the mock's own response breaks its contract (default strict)",
    )
    serve.add_argument(
        "--strict-auth",
        action="store_true",
        default=None,
        help="refuse API keys that were not registered through /__admin/api-keys",
    )
    serve.add_argument(
        "--launchdarkly-require-beta",
        action="store_true",
        default=None,
        help="answer LaunchDarkly calls without LD-API-Version: beta with 403, as before experiments "
        "left beta (MOCKSERVER_LAUNCHDARKLY_REQUIRE_BETA)",
    )
    serve.add_argument("--max-body-bytes", type=int, help="largest request body accepted (default 1 MiB)")
    serve.add_argument(
        "--fixture",
        help="start from a named fixture (demo, empty, approval-required, "
        "running-experiments) or a fixture file (MOCKSERVER_FIXTURE)",
    )
    serve.add_argument(
        "--state-file",
        help="load the state from PATH at start and save it there after every change (MOCKSERVER_STATE_FILE)",
    )
    serve.add_argument("--journal-size", type=int, help="requests kept in the journal (default 1000)")
    serve.add_argument("--latency", help="delay every vendor response by MIN-MAX ms, e.g. 50-200 (MOCKSERVER_LATENCY)")
    serve.add_argument(
        "--no-auth",
        action="store_true",
        default=None,
        help="treat vendor requests without credentials as a full-access key (MOCKSERVER_NO_AUTH)",
    )
    serve.add_argument("--cors-origins", help='allowed CORS origins, comma-separated; "*" (default) or "off"')
    serve.add_argument("--cors-headers", help="extra request headers browsers may send, comma-separated")
    serve.add_argument(
        "--cors-credentials",
        action="store_true",
        default=None,
        help="allow cookies and credentials in CORS requests (the origin is echoed back)",
    )
    serve.add_argument("--threads", type=int, help="worker threads of the server (default 8; MOCKSERVER_THREADS)")
    proxy = serve.add_argument_group("proxy-and-verify (see README: Contract testing)")
    proxy.add_argument(
        "--upstream",
        help="forward these vendors to the real services and check their answers against our contract: "
        "VENDOR=URL,... e.g. posthog=https://us.posthog.com (MOCKSERVER_UPSTREAM)",
    )
    proxy.add_argument(
        "--upstream-fallback",
        action="store_true",
        default=None,
        help="forward vendor requests the mock does not serve as well (default: answer them as the mock does)",
    )
    proxy.add_argument("--upstream-timeout", type=float, help="seconds for one upstream answer (default 30)")
    proxy.add_argument("--record", help="write what the upstreams answered to PATH as a state document (a fixture)")
    tls = serve.add_argument_group("HTTPS")
    tls.add_argument("--tls", choices=("self-signed",), help="serve HTTPS with a generated self-signed certificate")
    tls.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain) file")
    tls.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    tls.add_argument(
        "--tls-dir", help="where --tls self-signed keeps its CA and certificate (default ~/.cache/mockserver/tls)"
    )
    serve.add_argument(
        "--log-level",
        default=os.environ.get("MOCKSERVER_LOG_LEVEL", "WARNING"),
        help="logging level (default WARNING; MOCKSERVER_LOG_LEVEL)",
    )
    sub.add_parser("routes", help="list every served route")
    sub.add_parser("fixtures", help="list the named fixtures")
    sub.add_parser("check", help="validate the bundled specs with openapi-spec-validator")
    drift = sub.add_parser(
        "drift",
        help="compare a vendor's published OpenAPI document with our contract (exit 1 on breaking drift)",
    )
    drift.add_argument("vendor", help="posthog or launchdarkly")
    drift.add_argument("spec", help="the vendor's OpenAPI 3.0/3.1 document: a file path or an http(s) URL")
    drift.add_argument("--format", choices=("text", "json"), default="text", help="report format (default text)")
    drift.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a URL (default 30)")
    return parser


def settings_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    values: dict[str, Any] = env_overrides(environ)
    for name in (
        "host",
        "port",
        "seed",
        "response_validation",
        "strict_auth",
        "max_body_bytes",
        "fixture",
        "state_file",
        "journal_size",
        "no_auth",
        "cors_origins",
        "cors_headers",
        "cors_credentials",
        "threads",
        "launchdarkly_require_beta",
        "upstream",
        "upstream_fallback",
        "upstream_timeout",
        "record",
        "tls",
        "tls_cert",
        "tls_key",
        "tls_dir",
    ):
        given = getattr(args, name, None)
        if given is not None:
            values[name] = given
    if getattr(args, "latency", None) is not None:
        from mockserver.core.settings import parse_latency

        values["latency"] = parse_latency(args.latency)
    if getattr(args, "now", None):
        from mockserver.core.clock import parse_instant

        values["now"] = parse_instant(args.now)
    return Settings(**values)


def serve(settings: Settings) -> int:
    """Run under waitress: one process (the state is in memory), a pool of threads.

    Chosen by benchmarks/wsgi_servers.py over cheroot, gunicorn (gthread, 1 worker) and granian:
    ahead of the first two; granian is far ahead only with a single thread, where one simulated
    delay would stall every request. Pure Python, and no master/worker split whose worker
    restarts would lose the state. SIGTERM and SIGINT stop it cleanly with exit status 0.
    HTTPS (waitress has no TLS) runs under cheroot instead: see ``mockserver.tls.serve_https``.
    """
    from waitress import create_server

    from mockserver.admin.snapshot import SnapshotError
    from mockserver.app import create_app
    from mockserver.tls import files_for, serve_https

    try:
        app = create_app(settings)
        tls_files = files_for(settings)  # made or checked before the first client comes
    except (SnapshotError, OSError, ValueError) as exc:  # bad fixture, state or TLS files, an unknown upstream
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    # Everything built so far (libraries, compiled contracts, the seeded world) lives as long as
    # the process: keep it out of the collector's full passes, which otherwise walk it all and
    # show up as pauses of tens of ms under load.
    gc.freeze()
    if tls_files is not None:
        return serve_https(app, settings, tls_files)
    server = create_server(
        app,
        host=settings.host,
        port=settings.port,
        threads=settings.threads,
        ident="mockserver",
        clear_untrusted_proxy_headers=True,
    )

    def _stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    port = getattr(server, "effective_port", settings.port)
    print(f"mockserver listening on http://{settings.host}:{port} (seed {settings.seed})", flush=True)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
    print("mockserver stopped", flush=True)
    return 0


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        level = args.log_level.strip().upper()
        if level not in LOG_LEVELS:
            choices = ", ".join(LOG_LEVELS)
            print(f"mockserver: log level must be one of {choices}, not {args.log_level!r}", file=sys.stderr)
            return 2
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            settings = settings_from(args)
        except ValueError as exc:
            print(f"mockserver: {exc}", file=sys.stderr)
            return 2
        return serve(settings)
    if args.command == "routes":
        from mockserver.app import create_app

        app = create_app(Settings())
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            methods = ",".join(sorted(m for m in rule.methods if m not in ("HEAD", "OPTIONS")))
            print(f"{methods:8} {rule.rule}")
        return 0
    if args.command == "fixtures":
        from mockserver.admin.snapshot import fixture_names, read_fixture

        for name in fixture_names():
            print(f"{name:22} {read_fixture(name).get('description', '')}")
        return 0
    if args.command == "drift":
        from mockserver.drift import run

        return run(args.vendor, args.spec, args.format, timeout=args.timeout)
    if args.command == "check":
        from openapi_spec_validator import validate

        from mockserver.core.contract import load_spec, specs_dir

        for path in sorted(specs_dir().glob("*.yaml")):
            validate(load_spec(path.stem))
            print(f"ok  {path.name}")
        return 0
    return 2
