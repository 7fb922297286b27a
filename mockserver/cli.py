"""`mockserver serve | routes | fixtures | check | drift` (also `python -m mockserver`)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import MISSING
from typing import Any

from mockserver.core import heap
from mockserver.core.registry import RegistryError, options
from mockserver.core.settings import Settings, build, coerce, env_overrides, setting_fields
from mockserver.version import __version__

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FLAG_STYLE = {"latency": "MIN-MAX", "now": "INSTANT", "state_file": "PATH", "fixture": "NAME|PATH"}


def _default_text(f: Any) -> str:
    """`` (default …)`` for --help: nothing when the help already says it or there is none to say;
    on/off flags in the words they take."""
    value = f.default
    if value is MISSING or value is None or value == "" or "(default" in f.metadata["help"]:
        return ""
    if isinstance(value, bool):
        value = "on" if value else "off"
    return f" (default {value})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mockserver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the mock server")
    for f in setting_fields():
        flag = "--" + f.name.replace("_", "-")
        env = "MOCKSERVER_" + f.name.upper()
        default = _default_text(f)
        help_text = f"{f.metadata['help']}{default}; {env}"
        if f.type in ("bool", bool):
            serve.add_argument(
                flag, dest=f.name, nargs="?", const="true", default=None, metavar="on|off", help=help_text
            )
        else:
            serve.add_argument(
                flag,
                dest=f.name,
                default=None,
                choices=f.metadata.get("choices"),
                metavar=_FLAG_STYLE.get(f.name),
                help=help_text,
            )
    for option in options():
        serve.add_argument(
            "--" + option.key.replace("_", "-"),
            dest="option__" + option.key,
            nargs="?" if option.kind is bool else None,
            const="true" if option.kind is bool else None,
            default=None,
            metavar="on|off" if option.kind is bool else None,
            help=f"{option.help}; MOCKSERVER_{option.key.upper()}",
        )
    serve.add_argument(
        "--log-level",
        default=os.environ.get("MOCKSERVER_LOG_LEVEL", "INFO"),
        help="logging level; INFO logs one line per request (default INFO; MOCKSERVER_LOG_LEVEL)",
    )
    sub.add_parser("routes", help="list every served route with its operation id")
    sub.add_parser("fixtures", help="list the named fixtures")
    sub.add_parser("check", help="validate the bundled specs with openapi-spec-validator")
    drift = sub.add_parser(
        "drift", help="compare a vendor's published OpenAPI document with our contract (exit 1 on breaking drift)"
    )
    drift.add_argument("vendor", help="a vendor name, e.g. posthog or launchdarkly")
    drift.add_argument("spec", help="the vendor's OpenAPI 3.0/3.1 document: a file path or an http(s) URL")
    drift.add_argument("--format", choices=("text", "json"), default="text", help="report format (default text)")
    drift.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a URL (default 30)")
    return parser


def settings_from(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    """Flags win over MOCKSERVER_* variables; both go through the same parsing."""
    flagged = [f.name for f in setting_fields() if getattr(args, f.name, None) is not None]
    flagged += [o.key for o in options() if getattr(args, "option__" + o.key, None) is not None]
    values: dict[str, Any] = env_overrides(environ, flagged)
    vendor_values: dict[str, Any] = dict(values.pop("options", {}))
    for f in setting_fields():
        given = getattr(args, f.name, None)
        if given is not None:
            try:
                values[f.name] = coerce(f.name, given)
            except ValueError as exc:
                raise ValueError(f"--{f.name.replace('_', '-')}: {exc}") from None
    for option in options():
        given = getattr(args, "option__" + option.key, None)
        if given is not None:
            try:
                vendor_values[option.key] = option.parse(given)
            except ValueError as exc:
                raise ValueError(f"--{option.key.replace('_', '-')}: {exc}") from None
    return build({**values, "options": vendor_values})


class _JsonFormatter(logging.Formatter):
    """One JSON object per line (``--log-format json``): what log shippers parse."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        http = getattr(record, "http", None)
        if http is not None:
            out.update(http)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" warnings under load


def serve(settings: Settings) -> int:
    """Run under waitress: one process (the state is in memory), a pool of threads.

    Chosen by benchmarks/wsgi_servers.py over cheroot, gunicorn (gthread, 1 worker) and granian:
    ahead of the first two; granian is far ahead only with a single thread, where one simulated
    delay would stall every request. waitress refuses a body over its cap before reading it and
    closes idle or stalled connections after ``channel_timeout``. SIGTERM and SIGINT stop it
    cleanly with exit status 0.
    """
    import sqlite3

    from waitress import create_server

    from mockserver.app import create_app
    from mockserver.core.documents import SnapshotError
    from mockserver.tls import files_for, serve_https
    from mockserver.web import oversize

    try:
        _check_port(settings)  # before the state file is opened (or converted): a failed start changes nothing
        app = create_app(settings)  # holds the state file (if any) until exit: one server per file
        tls_files = files_for(settings)  # made or checked before the first client comes
    except (SnapshotError, OSError, ValueError, RegistryError, sqlite3.Error) as exc:
        print(f"mockserver: {_said(exc, settings)}", file=sys.stderr)
        return 2
    # Everything built so far (libraries, compiled contracts, the seeded world) lives as long as
    # the process: keep it out of the collector's full passes, which otherwise walk it all and
    # show up as pauses of tens of ms under load; and so is what the state grows by later.
    gc.freeze()
    heap.settle_growth()
    if tls_files is not None:  # waitress has no TLS: cheroot serves HTTPS
        try:
            return serve_https(
                app, settings, tls_files, lambda port: _banner(app, settings, port, "https"), _say(settings)
            )
        except (OSError, ValueError) as exc:  # a busy port, a host that is no address
            print(f"mockserver: {_said(exc, settings)}", file=sys.stderr)
            return 2
        finally:
            _close_state(app)
    try:
        server = create_server(
            app,
            host=settings.host,
            port=settings.port,
            threads=settings.threads,
            ident="mockserver",
            clear_untrusted_proxy_headers=True,
            # waitress counts chunk framing with the data and refuses at its cap, not past it: the
            # exact caps (each path's) are applied by the parser oversize.install gives it.
            max_request_body_size=2 * settings.largest_body_cap + 1,
            connection_limit=settings.connection_limit,
            channel_timeout=settings.channel_timeout,
            cleanup_interval=max(1, min(30, settings.channel_timeout // 2)),
        )
    except (OSError, ValueError) as exc:  # a busy port, a host that is no address ("Invalid host/port")
        print(f"mockserver: {_said(exc, settings)}", file=sys.stderr)
        return 2
    oversize.install(server, settings.body_cap)  # a body over its cap is refused unread, in the API's JSON error
    # waitress counts its listening sockets (two when a name resolves to IPv4 and IPv6) and its
    # wake-up pipe among the open connections: the limit given is of client connections.
    listeners = len(getattr(server, "effective_listen", None) or [None])
    server.adj.connection_limit = settings.connection_limit + listeners + 1

    def _stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    port = getattr(server, "effective_port", settings.port)
    _banner(app, settings, port)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
        _close_state(app)
    logging.getLogger("mockserver").info("mockserver stopped")
    _say(settings)("mockserver stopped")
    return 0


def _say(settings: Settings) -> Callable[..., None]:
    """What serve prints on stdout: text lines, or one JSON object per line with
    ``--log-format json`` (a log shipper reading the container's output meets no plain text)."""

    def say(message: str, **fields: Any) -> None:
        if settings.log_format == "json":
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
            record = {"time": stamp, "level": "INFO", "logger": "mockserver", "message": message, **fields}
            message = json.dumps(record, ensure_ascii=False)
        with contextlib.suppress(BrokenPipeError):  # a reader (`| head`) may have gone first
            print(message, flush=True)

    return say


def _check_port(settings: Settings) -> None:
    """A port another process listens on is said before anything is built or opened."""
    import socket

    if not settings.port:
        return
    host = settings.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
            probe.bind((host, settings.port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise
        # A host the probe cannot take as given ("*", a name): waitress resolves it and says.


def _said(exc: BaseException, settings: Settings) -> str:
    """One line for a failed start."""
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        if exc.filename:  # a file: the state file, a TLS file
            return f"{exc.strerror} ({exc.filename})"
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        return f"cannot listen on {settings.host}:{settings.port}: {reason}"
    if isinstance(exc, ValueError) and "Invalid host/port" in str(exc):  # waitress's word for it
        return f"cannot listen on {settings.host}:{settings.port}: not an address or a name this machine resolves"
    if type(exc).__module__ == "sqlite3":
        return f"state file {settings.state_file} cannot be used: {exc}"
    return str(exc)


def _close_state(app: Any) -> None:
    state_file = app.extensions["mockserver"].state_file
    if state_file is not None:
        state_file.close()


def _banner(app: Any, settings: Settings, port: int, scheme: str = "http") -> None:
    """What is running where: printed (stdout) and logged at INFO; HTTP and HTTPS alike."""
    runtime = app.extensions["mockserver"]
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"{scheme}://{shown}:{port}"
    if runtime.admin_token_generated:
        token = f"generated: {runtime.admin_token}"
    else:
        token = "required" if runtime.admin_token else "none"
    headline = f"mockserver listening on {url} (seed {runtime.store.seed})"
    say = _say(settings)
    if settings.log_format == "json":  # one record that holds the lines below as fields
        say(
            headline,
            url=url,
            seed=runtime.store.seed,
            vendors=[v.name for v in runtime.vendors],
            fixture=settings.fixture,
            state_file=settings.state_file,
            control=f"{url}/__admin" if settings.admin_api else None,
            admin_token=token,
            console=f"{url}/__admin/ui" if settings.admin_api else None,
        )
    else:
        lines = [
            headline,
            f"  vendors:  {', '.join(v.name for v in runtime.vendors)}",
            f"  fixture:  {settings.fixture or 'seeded world'}",
            f"  state:    {settings.state_file} (its seed and clock resumed)" if settings.state_file else "",
            f"  control:  {url}/__admin (admin token {token})" if settings.admin_api else "  control:  off",
            f"  console:  {url}/__admin/ui   docs: {url}/__admin/docs" if settings.admin_api else "",
        ]
        for line in filter(None, lines):
            say(line)
    logging.getLogger("mockserver").info(
        "started on %s: seed %s, fixture %s, vendors %s, admin API %s, admin token %s",
        url,
        runtime.store.seed,
        settings.fixture or "none",
        ",".join(v.name for v in runtime.vendors),
        "on" if settings.admin_api else "off",
        "generated (printed above)" if runtime.admin_token_generated else token,
    )


def _print_lines(lines: Iterable[str]) -> int:
    """Print a listing; a reader that stops early (``mockserver routes | head``) is not an error."""
    try:
        for text in lines:
            print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python's own advice: point stdout at devnull so the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except RegistryError as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        level = args.log_level.strip().upper()
        if level not in LOG_LEVELS:
            choices = ", ".join(LOG_LEVELS)
            print(f"mockserver: log level must be one of {choices}, not {args.log_level!r}", file=sys.stderr)
            return 2
        try:
            settings = settings_from(args)
        except (ValueError, TypeError) as exc:
            print(f"mockserver: {exc}", file=sys.stderr)
            return 2
        configure_logging(level, settings.log_format)
        return serve(settings)
    if args.command == "routes":
        from mockserver.app import create_app

        router = create_app(Settings()).extensions["mockserver.router"]
        routes = sorted(router.operations(), key=lambda r: (r.path, r.method))
        return _print_lines(f"{r.method:7} {r.path:70} {r.surface.name:12} {r.operation_id}" for r in routes)
    if args.command == "fixtures":
        from mockserver.core.fixtures import fixture_names, read_fixture

        return _print_lines(f"{name:22} {read_fixture(name).get('description', '')}" for name in fixture_names())
    if args.command == "drift":
        from mockserver.drift import run

        return run(args.vendor, args.spec, args.format, timeout=args.timeout)
    if args.command == "check":
        from openapi_spec_validator import validate

        from mockserver.core.contract import load_spec, merged_spec, specs_dir

        fragments = sorted(p.stem for p in specs_dir().glob("*.admin.yaml"))
        for path in sorted(specs_dir().glob("*.yaml")):
            if path.stem in fragments:
                continue
            spec = merged_spec(path.stem, fragments) if path.stem == "admin" else load_spec(path.stem)
            validate(spec)
            print(f"ok  {path.name}" + (f" (with {', '.join(fragments)})" if path.stem == "admin" else ""))
        return 0
    return 2
