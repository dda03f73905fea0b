"""sim:cv-photonic's Gaussian physics against thewalrus (issue 16): scripts/check_cv_photonic.py
rebuilds the mesh, the detected covariance and a displaced mean with thewalrus's own
symplectic matrices from a state exported by the real binary, and must agree to 1e-9."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import thewalrus  # noqa: F401  (a test dependency of python/: the check needs it, never skipped)

CHECK = Path(__file__).resolve().parents[2] / "scripts" / "check_cv_photonic.py"


def export(bin_path: str, tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / f"{name}.json"
    done = subprocess.run(
        [bin_path, "twin", "export", "sim:cv-photonic", "--task", "iris", "-o", str(out), *args],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return out


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(path)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "name,config",
    [("default", ""), ("squeezed-lossy", "[twin]\nsqueezing = 0.4\ntransmission = 0.8\n")],
)
def test_exported_circuit_matches_thewalrus(bin_path: str, tmp_path: Path, name: str, config: str) -> None:
    args: list[str] = ["--seed", "3"]
    if config:
        toml = tmp_path / "twin.toml"
        toml.write_text(config)
        args += ["--config", str(toml)]
    state = export(bin_path, tmp_path, name, *args)
    done = check(state)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("OK")
    assert "modes 15, beam splitters 105" in done.stdout


def test_a_changed_angle_is_caught(bin_path: str, tmp_path: Path) -> None:
    state = export(bin_path, tmp_path, "tampered", "--seed", "2")
    doc = json.loads(state.read_text())
    doc["angles"][3] += 1e-3
    state.write_text(json.dumps(doc))
    done = check(state)
    assert done.returncode == 1 and "MISMATCH" in done.stdout, done.stdout
