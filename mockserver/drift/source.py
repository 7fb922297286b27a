"""Reading a vendor's OpenAPI document from a file or an http(s) URL, as JSON or YAML."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # LaunchDarkly's whole spec is 2.4 MB; this leaves room, not a hole
FETCH_TIMEOUT = 30.0
_URL = re.compile(r"^https?://", re.IGNORECASE)


class DocumentError(ValueError):
    """A document that cannot be read or is not OpenAPI 3.0/3.1 (a usage error, exit status 2)."""


def read_source(source: str, timeout: float = FETCH_TIMEOUT, max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes:
    if _URL.match(source):
        request = urllib.request.Request(
            source,
            headers={"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1", "User-Agent": "mockserver-drift"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read(max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise DocumentError(f"could not fetch {source}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DocumentError(f"could not fetch {source}: {reason}") from None
    elif "://" in source:
        raise DocumentError(f"{source}: only file paths and http(s) URLs are supported")
    else:
        path = Path(source)
        if not path.is_file():
            raise DocumentError(f"{source}: no such file")
        try:
            with path.open("rb") as fh:
                raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise DocumentError(f"{source}: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise DocumentError(f"{source}: larger than {max_bytes} bytes")
    return raw


def parse_document(raw: bytes, name: str) -> dict[str, Any]:
    """JSON when it looks like JSON (fast for multi-megabyte specs), YAML otherwise."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DocumentError(f"{name}: not UTF-8 text") from None
    doc: Any = None
    try:
        if text.lstrip().startswith("{"):
            try:
                doc = json.loads(text)
            except ValueError:
                doc = None
        if doc is None:
            doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise DocumentError(f"{name}: neither JSON nor YAML ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise DocumentError(f"{name}: nested too deeply to read") from None
    return check_openapi(doc, name)


def check_openapi(doc: Any, name: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise DocumentError(f"{name}: not an OpenAPI document (the top level is not an object)")
    version = doc.get("openapi")
    if not isinstance(version, str) or not re.match(r"^3\.[01](\.\d+)?", version):
        found = f"swagger {doc['swagger']}" if "swagger" in doc else f"openapi {version!r}"
        raise DocumentError(f"{name}: only OpenAPI 3.0 and 3.1 documents can be compared (found {found})")
    if not isinstance(doc.get("paths"), dict):
        raise DocumentError(f"{name}: the document has no paths")
    return doc


def load_document(source: str, timeout: float = FETCH_TIMEOUT) -> dict[str, Any]:
    return parse_document(read_source(source, timeout), source)
