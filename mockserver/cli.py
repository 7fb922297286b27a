"""`mockserver serve | routes | check` (also `python -m mockserver`)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from mockserver.settings import RESPONSE_VALIDATION_MODES, Settings, env_overrides


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1; MOCKSERVER_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8010; 0 picks a free one; MOCKSERVER_PORT)")
    serve.add_argument("--seed", type=int, help="seed of the generated data (default 42; MOCKSERVER_SEED)")
    serve.add_argument("--now", help="freeze the clock at this ISO 8601 instant (MOCKSERVER_NOW)")
    serve.add_argument("--response-validation", choices=RESPONSE_VALIDATION_MODES,
                       help="what to do when the mock's own response breaks its contract (default strict)")
    serve.add_argument("--strict-auth", action="store_true", default=None,
                       help="refuse API keys that were not registered through /__admin/api-keys")
    serve.add_argument("--max-body-bytes", type=int, help="largest request body accepted (default 1 MiB)")
    serve.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    sub.add_parser("routes", help="list every served route")
    sub.add_parser("check", help="validate the bundled specs with openapi-spec-validator")
    return parser


def settings_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    values: dict[str, Any] = env_overrides(environ)
    for name in ("host", "port", "seed", "response_validation", "strict_auth", "max_body_bytes"):
        given = getattr(args, name, None)
        if given is not None:
            values[name] = given
    if getattr(args, "now", None):
        from mockserver.clock import parse_instant

        values["now"] = parse_instant(args.now)
    return Settings(**values)


def serve(settings: Settings) -> int:
    from werkzeug.serving import make_server

    from mockserver.app import create_app

    app = create_app(settings)
    server = make_server(settings.host, settings.port, app, threaded=True)

    def _stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"mockserver listening on http://{settings.host}:{server.server_port} (seed {settings.seed})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    if args.command == "check":
        from openapi_spec_validator import validate

        from mockserver.contract import load_spec, specs_dir

        for path in sorted(specs_dir().glob("*.yaml")):
            validate(load_spec(path.stem))
            print(f"ok  {path.name}")
        return 0
    return 2
