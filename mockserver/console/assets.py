"""Files and documents the console serves: a name to bytes and a content type, without a web framework.

The console's own files live in ``static/`` beside this module; Swagger UI's come from the
``swagger-ui-py`` package. Only names listed here are served, so no request can reach another file.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from mockserver.core.contract import load_spec, merged_spec

STATIC = Path(__file__).resolve().parent / "static"
CONSOLE_URL = "/__admin/ui"
DOCS_URL = "/__admin/docs"
SPECS_URL = "/__admin/specs"
SPECS = {
    "posthog": "PostHog experiments API",
    "launchdarkly": "LaunchDarkly Experimentation API v2",
    "admin": "mockserver control API",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# What the console's pages may load: their own files and same-origin calls, nothing inline.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
# Swagger UI sets a few inline style attributes in its markup; scripts stay strictly its own files.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css")
DOCS_PAGES = {"": "docs.html", "docs.js": "docs.js", "docs.css": "docs.css"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str


def _read(path: Path) -> Asset | None:
    if not path.is_file():
        return None
    return Asset(path.read_bytes(), CONTENT_TYPES.get(path.suffix, "application/octet-stream"))


@functools.cache
def _console_names() -> frozenset[str]:
    return frozenset(p.name for p in STATIC.iterdir() if p.is_file() and p.suffix in CONTENT_TYPES)


def console_file(name: str) -> Asset | None:
    """``""`` is the console's page; other names are its files (flat: no sub-folders)."""
    name = name or "index.html"
    if name not in _console_names() or name.startswith("docs."):
        return None
    return _read(STATIC / name)


def swagger_dir() -> Path | None:
    """Swagger UI's files as the swagger-ui-py package ships them (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    for location in (spec.submodule_search_locations or []) if spec else []:
        static = Path(location) / "static"
        if (static / "swagger-ui-bundle.js").is_file():
            return static
    return None


def docs_file(name: str) -> Asset | None:
    """``""`` is the docs page; then its script and style, and Swagger UI's files."""
    if name in DOCS_PAGES:
        return _read(STATIC / DOCS_PAGES[name])
    if name in SWAGGER_FILES:
        folder = swagger_dir()
        return _read(folder / name) if folder else None
    return None


def spec_index() -> dict[str, object]:
    """Where the console, the docs and each spec (YAML and JSON) are published."""
    return {
        "console": CONSOLE_URL,
        "docs": DOCS_URL,
        "specs": [
            {"name": name, "title": title, "yaml": f"{SPECS_URL}/{name}.yaml", "json": f"{SPECS_URL}/{name}.json"}
            for name, title in SPECS.items()
        ],
    }


@functools.lru_cache(maxsize=32)
def spec_document(name: str, fmt: str, server_url: str, fragments: tuple[str, ...] = ()) -> Asset | None:
    """A bundled spec whose ``servers`` name this server, so "Try it out" and generated clients call it;
    the control API's with each vendor's part (``fragments``) merged in, as the server serves it."""
    if name not in SPECS or fmt not in ("yaml", "json"):
        return None
    spec = copy.deepcopy(merged_spec(name, fragments) if name == "admin" else load_spec(name))
    spec["servers"] = [{"url": server_url, "description": "this mockserver"}]
    if fmt == "json":
        return Asset(json.dumps(spec, ensure_ascii=False, indent=1, default=str).encode(), "application/json")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: ~10x faster
    text = yaml.dump(spec, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    return Asset(text.encode(), "application/yaml")
