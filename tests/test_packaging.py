"""`pip install .` (not editable) ships the specs and the console's files inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_specs_and_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("mockserver-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in ROOT.glob("specs/*.yaml"):
        assert f"mockserver/specs/{spec.name}" in names
    assert "mockserver/vendors/posthog/lifecycle.py" in names
    console = ROOT / "mockserver" / "console"
    for asset in (console / "static").iterdir():
        assert f"mockserver/console/static/{asset.name}" in names  # the console needs no build at install time
    assert {"mockserver/console/assets.py", "mockserver/console/handlers.py"} <= names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    assert "Requires-Dist: swagger-ui-py" in zipfile.ZipFile(wheel).read(metadata).decode()  # Swagger UI's files
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "mockserver = mockserver.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
