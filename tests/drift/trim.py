"""How tests/drift/data/launchdarkly-openapi-v2.json.gz was made from the vendor's published spec.

``python -m tests.drift.trim FULL_SPEC.json`` keeps every path, operation, parameter and schema
and drops what only people read (descriptions, summaries, examples, vendor extensions), which
takes the 2.4 MB document to about 0.6 MB (37 KB compressed).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

PROSE = {"description", "summary", "example", "examples", "externalDocs"}
OUT = Path(__file__).parent / "data" / "launchdarkly-openapi-v2.json.gz"


def trim(node: Any, key: str | None = None) -> Any:
    if isinstance(node, dict):
        return {
            k: trim(v, k)
            for k, v in node.items()
            if key == "properties" or not (k in PROSE or k.startswith("x-"))  # a property may be called "example"
        }
    if isinstance(node, list):
        return [trim(v) for v in node]
    return node


def main(path: str) -> None:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    out = trim(doc)
    out["info"] = {"title": "LaunchDarkly REST API (structure only)", "version": doc["info"]["version"]}
    out["tags"] = [{"name": t["name"]} for t in doc.get("tags", [])]
    OUT.write_bytes(gzip.compress(json.dumps(out, separators=(",", ":")).encode("utf-8"), mtime=0))


if __name__ == "__main__":
    main(sys.argv[1])
