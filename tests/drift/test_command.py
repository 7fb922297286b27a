"""`mockserver drift VENDOR SPEC`: files and URLs, text and JSON, exit statuses for a CI job."""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from mockserver.cli import main
from mockserver.core.contract import load_spec


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static file server on loopback standing in for the vendor's documentation site."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def _breaking_variant() -> dict:
    doc = copy.deepcopy(load_spec("posthog"))
    doc["paths"].pop(next(iter(doc["paths"])))  # the vendor drops a path we serve
    return doc


def test_same_document_exits_0_with_a_clean_text_report(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "posthog.yaml"
    spec.write_text(yaml.safe_dump(load_spec("posthog")), encoding="utf-8")
    assert main(["drift", "posthog", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "No differences that matter to a client." in out
    assert "0 finding(s), 0 breaking: no breaking drift." in out


def test_breaking_drift_exits_1_and_json_lists_every_finding(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "posthog.json"
    spec.write_text(json.dumps(_breaking_variant()), encoding="utf-8")
    assert main(["drift", "posthog", str(spec), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["vendor"] == "posthog"
    assert report["summary"]["breaking"] >= 1
    assert report["summary"]["findings"] == len(report["findings"])
    removed = [f for f in report["findings"] if f["kind"] == "operation_removed"]
    assert removed and all(f["breaking"] for f in removed)
    assert set(removed[0]) >= {"kind", "breaking", "message", "operation", "method", "path", "where", "field"}


def test_text_report_names_each_breaking_difference(tmp_path: Path, capsys) -> None:
    doc = copy.deepcopy(load_spec("launchdarkly"))
    error = doc["components"]["schemas"]
    name = next(n for n, s in error.items() if s.get("required") and s.get("properties"))
    field = error[name]["required"][0]
    del error[name]["properties"][field]
    spec = tmp_path / "ld.json"
    spec.write_text(json.dumps(doc), encoding="utf-8")
    main(["drift", "launchdarkly", str(spec)])
    out = capsys.readouterr().out
    assert "Breaking for a client" in out
    assert f"{name}.{field}:" in out


def test_spec_over_http(web, capsys) -> None:
    base, root = web
    (root / "openapi.json").write_text(json.dumps(_breaking_variant()), encoding="utf-8")
    (root / "same.yaml").write_text(yaml.safe_dump(load_spec("posthog")), encoding="utf-8")
    assert main(["drift", "posthog", f"{base}/openapi.json"]) == 1
    assert main(["drift", "posthog", f"{base}/same.yaml"]) == 0
    capsys.readouterr()
    assert main(["drift", "posthog", f"{base}/missing.json"]) == 2
    assert "HTTP 404" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"swagger": "2.0", "paths": {}}', "only OpenAPI 3.0 and 3.1"),
        ("just: [unbalanced", "neither JSON nor YAML"),
        ("- a list", "not an OpenAPI document"),
        ('{"openapi": "3.1.0"}', "no paths"),
    ],
)
def test_unusable_documents_exit_2(tmp_path: Path, capsys, content: str, message: str) -> None:
    spec = tmp_path / "spec.txt"
    spec.write_text(content, encoding="utf-8")
    assert main(["drift", "posthog", str(spec)]) == 2
    assert message in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["drift", "nobody", str(tmp_path)]) == 2
    assert "unknown vendor 'nobody'; vendors are: launchdarkly, posthog\n" in capsys.readouterr().err
    assert main(["drift", "posthog", str(tmp_path / "nope.yaml")]) == 2
    assert main(["drift", "posthog", "ftp://127.0.0.1/spec.yaml"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["drift", "posthog"])
    assert exc.value.code == 2


def test_the_console_command_sets_the_exit_status(tmp_path: Path) -> None:
    spec = tmp_path / "posthog.json"
    spec.write_text(json.dumps(_breaking_variant()), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "drift", "posthog", str(spec)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert "breaking drift." in done.stdout
