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


def rows_of(steps) -> list:
    """Dicts, or a structured array's rows as dicts, with NaN spelled "nan" (so equal rows compare equal)."""
    if not isinstance(steps, list):
        steps = [dict(zip(steps.dtype.names, row.tolist())) for row in steps]
    return [{k: ("nan" if isinstance(v, float) and v != v else v) for k, v in record.items()} for record in steps]


def test_watch_a_finished_run_yields_every_step_and_returns(recorded) -> None:
    store = pnnlab.open_store(recorded.path, pandas=False)
    for name in ("xor", "clln"):
        number = recorded.trained[name]["run"]
        watched = list(store.watch(number, sleep=lambda s: pytest.fail("a finished run needs no waiting")))
        assert rows_of(watched) == rows_of(store.run(number).steps)
        assert [w["step"] for w in store.watch(number, after=3)] == list(range(4, len(watched) + 1))


def test_watch_follows_a_live_run_to_its_end(bin_path: str, tmp_path: Path) -> None:
    store = tmp_path / "watched.sqlite"
    process = subprocess.Popen(
        [bin_path, "train", "sim:crossbar", "--task", "iris", "--epochs", "30", "--store", str(store), "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _steps(store) >= 1, 60, "the first committed step")
        reader = pnnlab.open_store(store, pandas=False)
        steps = reader.watch(1, poll_seconds=0.02, timeout=60)
        watched = [next(steps)]
        assert process.poll() is None  # watching while it trains
        watched += list(steps)
        assert process.wait(timeout=60) == 0
        final = reader.run(1)
        assert final.status == "completed"
        assert rows_of(watched) == rows_of(final.steps)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_watch_times_out_on_a_stalled_run(live_training) -> None:
    store, process = live_training
    process.send_signal(signal.SIGSTOP)  # alive, holding its lease, committing nothing
    try:
        reader = pnnlab.open_store(store, pandas=False)
        last = reader.run(1).result.steps
        now = [0.0]

        def fake_sleep(seconds: float) -> None:
            now[0] += seconds

        with pytest.raises(TimeoutError, match="committed no step for 5 s"):
            for _ in reader.watch(1, after=last, timeout=5, poll_seconds=1, sleep=fake_sleep, clock=lambda: now[0]):
                pytest.fail("a stopped trainer commits nothing")
        assert 5 < now[0] <= 7
    finally:
        process.send_signal(signal.SIGCONT)
