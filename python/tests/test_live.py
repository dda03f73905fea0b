"""Reading a store while pnnlab trains into it: the writer is never held up, liveness reads as pnnlab's."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

import pnnlab
from conftest import run_json


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture()
def live_training(bin_path: str, tmp_path: Path):
    """A long Iris run training into a fresh store (killed at the end if still going)."""
    store = tmp_path / "live.sqlite"
    process = subprocess.Popen(
        [bin_path, "train", "sim:crossbar", "--task", "iris", "--epochs", "100000", "--store", str(store), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: store.exists() and _steps(store) >= 1, 60, "the first committed step")
        yield store, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def _steps(store: Path) -> int:
    try:
        runs = pnnlab.open_store(store, pandas=False).runs()
    except pnnlab.StoreError:
        return 0  # the store is being created right now
    return runs[0].steps if runs else 0


def test_a_held_reader_does_not_block_the_writer_and_liveness_matches(live_training, bin_path: str) -> None:
    store, process = live_training
    reader = pnnlab.open_store(store, pandas=False)
    run = reader.run(1)
    assert run.status == "running"
    held = run.result.steps
    # Hold a read snapshot open while the trainer keeps committing.
    with reader._read() as snapshot:
        frozen = snapshot.execute("SELECT COUNT(*) FROM step").fetchone()[0]
        later = wait_for(lambda: (n := _steps(store)) >= frozen + 5 and n, 30, "five more committed steps")
        assert snapshot.execute("SELECT COUNT(*) FROM step").fetchone()[0] == frozen  # the snapshot is stable
    assert later >= held + 5
    assert process.poll() is None  # still training: it never gave up on a locked store

    process.send_signal(signal.SIGKILL)
    process.wait()
    [mine] = pnnlab.open_store(store, pandas=False).runs()
    [theirs] = run_json(bin_path, "runs", "--json", "--store", str(store))
    assert mine.status == theirs["status"] == "interrupted"
    assert mine.as_json() == theirs


def test_a_running_run_reads_running(live_training, bin_path: str) -> None:
    store, process = live_training
    assert pnnlab.open_store(store, pandas=False).runs()[0].status == "running"
    assert run_json(bin_path, "runs", "--json", "--store", str(store))[0]["status"] == "running"
    process.send_signal(signal.SIGINT)  # pauses at the next step boundary
    assert process.wait(timeout=60) == 130
    result = json.loads(process.stdout.read() or b"null") if process.stdout else None
    [mine] = pnnlab.open_store(store, pandas=False).runs()
    assert mine.status == "paused"
    assert mine.as_json() == run_json(bin_path, "runs", "--json", "--store", str(store))[0]
    if result is not None:
        assert result["status"] == "paused"
