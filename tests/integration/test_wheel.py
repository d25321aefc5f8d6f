"""The built wheel works installed anywhere: files are found through the packages, not the checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CHECKOUT = Path(__file__).resolve().parents[2]


def uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


def test_the_wheel_installed_in_a_fresh_environment_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run([*uv(), "build", "--wheel", "--out-dir", str(dist), str(CHECKOUT)], check=True, capture_output=True)
    (wheel,) = dist.glob("*.whl")
    subprocess.run([*uv(), "venv", "--quiet", "--python", "python3", str(venv)], check=True, capture_output=True)
    subprocess.run(
        [*uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True,
        capture_output=True,
    )
    teei = str(venv / "bin" / "teei")
    # No trace of the checkout on the path: only what the wheel installed.
    environment = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "TEEI_HOME": str(tmp_path / "h")}

    shown = subprocess.run([teei, "--help"], cwd=elsewhere, env=environment, capture_output=True, text=True)
    generated = subprocess.run(
        [teei, "generate", "--scale", "5", "--out", "out"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
    )

    assert shown.returncode == 0, shown.stderr
    assert "generate" in shown.stdout and "run" in shown.stdout
    assert generated.returncode == 0, generated.stderr
    manifest = json.loads((elsewhere / "out" / "manifest.json").read_text())
    assert len({counts["entity"] for counts in manifest["files"].values()}) >= 10
    for relative in manifest["files"]:
        assert (elsewhere / "out" / relative).stat().st_size > 0
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import teei, dbt_project; print(teei.__file__, dbt_project.__file__)"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(CHECKOUT) not in where.stdout and str(venv) in where.stdout
