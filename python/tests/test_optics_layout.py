"""scripts/optics_layout_ceiling.py, run by make test: the optics twin's side-by-side layout
(trainable macro-pixels beside the input ones) gives each class score two real degrees of
freedom, so no training of those phases can classify digits well; phases added on the
input's own macro-pixels can. The numbers back docs/results.md ("In-situ phase training")."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "optics_layout_ceiling.py"


def test_side_by_side_layout_caps_in_situ_phase_training() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "600"], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout)
    assert r["test_samples"] == 540
    # Ten classes: chance 0.1. Side by side, even a free complex coefficient per class stays low.
    assert r["side_by_side_test_accuracy"] < 0.35
    assert r["overlay_test_accuracy"] > r["side_by_side_test_accuracy"] + 0.2


def test_overlay_beats_side_by_side_with_the_twins_encoding() -> None:
    """The same contrast with the inputs encoded as `pnnlab train sim:optics` encodes them
    (standardised, grey round(127.5 (v + 1)), linear LUT): the figures docs/results.md puts
    beside the in-situ runs on the overlay twin."""
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--iterations", "600", "--encoding", "twin"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    r = json.loads(run.stdout)
    assert r["encoding"] == "twin"
    assert r["side_by_side_test_accuracy"] < 0.35
    assert r["overlay_test_accuracy"] > r["side_by_side_test_accuracy"] + 0.2
