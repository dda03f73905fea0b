"""Fixtures: a store recorded by the real pnnlab binary (PNNLAB_BIN, else pnnlab on PATH)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import pnnlab


@pytest.fixture(scope="session")
def bin_path() -> str:
    try:
        return pnnlab.binary()
    except pnnlab.PnnlabError as e:
        pytest.fail(f"these tests run the pnnlab binary: {e}", pytrace=False)


def run_json(bin_path: str, *args: str, timeout: float = 300) -> object:
    """``pnnlab ARGS`` (which must print JSON), asserting it succeeds."""
    done = subprocess.run(
        [bin_path, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    assert done.returncode == 0, f"pnnlab {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}"
    return json.loads(done.stdout)


class Recorded:
    """The shared store and what the CLI printed while filling it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.trained: dict[str, dict] = {}
        self.attached: dict = {}
        self.calibrated: dict = {}


@pytest.fixture(scope="session")
def recorded(bin_path: str, tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """One store with a softmax Jacobian run, a least-squares one, a contrastive run, a
    calibration profile and an attached emulated board, all made by the real binary."""
    folder = tmp_path_factory.mktemp("store")
    rec = Recorded(folder / "pnnlab.sqlite")
    store = str(rec.path)
    rec.trained["xor"] = run_json(bin_path, "train", "sim:crossbar", "--task", "xor", "--store", store, "--json")
    config = folder / "lsq.toml"
    config.write_text('[trainer]\nepochs = 2\nreadout = "least-squares"\n')
    rec.trained["lsq"] = run_json(
        bin_path, "train", "sim:crossbar", "--task", "iris", "--config", str(config), "--seed", "7", "--store", store, "--json"
    )
    rec.trained["clln"] = run_json(
        bin_path, "train", "sim:clln", "--task", "two-task", "--method", "coupled", "--periods", "2", "--store", store, "--json"
    )
    rec.calibrated = run_json(bin_path, "calibrate", "sim:clln", "--store", store, "--json", "--trials", "4")
    rec.attached = attach_emulated_crossbar(bin_path, folder, store)
    return rec


def attach_emulated_crossbar(bin_path: str, folder: Path, store: str) -> dict:
    """``pnnlab emulate crossbar`` on a pty, ``pnnlab attach`` to it, the emulator stopped."""
    link = folder / "xbar"
    emulator = subprocess.Popen(
        [bin_path, "emulate", "crossbar", "--link", str(link)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        assert emulator.stdout is not None
        emulator.stdout.readline()  # its first line is the pty path: it is ready
        deadline = time.monotonic() + 10
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return run_json(bin_path, "attach", str(link), "--store", store, "--json", timeout=60)
    finally:
        emulator.send_signal(signal.SIGINT)
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()
            emulator.wait()


@pytest.fixture()
def store_copy(recorded: Recorded, tmp_path: Path) -> Path:
    """A private copy of the recorded store (for tests that damage it)."""
    target = tmp_path / "copy.sqlite"
    shutil.copyfile(recorded.path, target)
    for suffix in ("-wal",):
        if os.path.exists(str(recorded.path) + suffix):
            shutil.copyfile(str(recorded.path) + suffix, str(target) + suffix)
    return target
