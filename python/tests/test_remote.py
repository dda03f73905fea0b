"""The Python client against a real ``pnnlab serve`` (the binary under test) on a free loopback port."""

from __future__ import annotations

import json
import subprocess
import time

import numpy as np
import pytest

import pnnlab


@pytest.fixture(scope="module")
def server(bin_path: str, tmp_path_factory: pytest.TempPathFactory):
    """``pnnlab serve`` with two identical ideal crossbar twins (a, b) and an in-process reference."""
    store = str(tmp_path_factory.mktemp("serve") / "pnnlab.sqlite")
    trained = subprocess.run(
        [bin_path, "train", "sim:crossbar", "--task", "xor", "--store", store, "--json"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )
    assert trained.returncode == 0, trained.stderr
    child = subprocess.Popen(
        [bin_path, "serve", "--listen", "127.0.0.1:0", "--seed", "5", "--store", store,
         "--device", "a=sim:crossbar --ideal", "--device", "b=sim:crossbar --ideal"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    address = child.stdout.readline().strip()
    assert address, child.stderr.read()
    yield address
    child.terminate()
    child.wait(timeout=30)
    assert child.returncode == 0


def inputs(device: pnnlab.RemoteDevice, rows: int, seed: int) -> np.ndarray:
    d = device.descriptor.inputs
    u = np.random.default_rng(seed).uniform(0.1, 0.9, size=(rows, d.count))
    return d.lower + (d.upper - d.lower) * u


def test_devices_and_descriptor(server: str) -> None:
    remote = pnnlab.connect(server)
    names = [d["name"] for d in remote.devices()]
    assert names == ["a", "b"]
    a = remote.device("a")
    assert a.descriptor.family == "crossbar"
    assert a.descriptor.parameters.crossbar is not None
    rows, cols = a.descriptor.parameters.crossbar
    assert a.descriptor.parameters.count == rows * cols * 2
    assert a.input_count == rows and a.output_count == cols


def test_measure_matches_identical_twin_and_programming_changes_it(server: str) -> None:
    remote = pnnlab.connect(f"remote://{server}/a")
    a, b = remote.device("a"), remote.device("b")
    x = inputs(a, 32, seed=1)
    ya, yb = a.measure(x), b.measure(x)
    assert ya.shape == (32, a.output_count) and ya.dtype == np.float64
    np.testing.assert_allclose(ya, yb, rtol=0, atol=1e-12)
    p = a.descriptor.parameters
    theta = p.lower + (p.upper - p.lower) * np.linspace(0.1, 0.9, p.count)
    read_a = a.set_parameters(theta)
    read_b = b.set_parameters(theta)
    np.testing.assert_allclose(read_a, read_b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.read_parameters(), read_a, rtol=0, atol=1e-9)
    y2 = a.measure(x)
    np.testing.assert_allclose(y2, b.measure(x), rtol=0, atol=1e-12)
    assert np.max(np.abs(y2 - ya)) > 1e-6


def test_unsafe_values_refused_by_server(server: str) -> None:
    a = pnnlab.connect(server).device("a")
    x = inputs(a, 1, seed=2)
    x[0, 0] = a.descriptor.inputs.upper * 5
    with pytest.raises(pnnlab.RemoteError, match="refused by the server"):
        a.measure(x)


def test_second_writer_refused(server: str) -> None:
    first = pnnlab.connect(server).device("b")
    second = pnnlab.connect(server).device("b")
    with first.lease(holder="alice"):
        with pytest.raises(pnnlab.LeaseHeldError, match="alice"):
            second.set_parameters(second.descriptor.parameters.lower)
        second.measure(inputs(second, 2, seed=3))  # reading is fine
    second.set_parameters(second.descriptor.parameters.lower)


def test_stream(server: str) -> None:
    a = pnnlab.connect(server).device("a")
    x = inputs(a, 4, seed=4)
    probes = [{"id": i, "changes": [(i, a.descriptor.parameters.upper[i])], "inputs": x} for i in range(10)]
    results = list(a.stream(probes))
    assert [r["id"] for r in results] == list(range(10))
    assert all(r["outputs"].shape == (4, a.output_count) for r in results)


def test_runs(server: str) -> None:
    remote = pnnlab.connect(server)
    runs = remote.runs()
    assert len(runs) == 1 and runs[0]["task"] == "xor" and runs[0]["status"] == "completed"
    run = remote.run(runs[0]["id"])
    assert len(run["steps"]) == runs[0]["steps"] > 0
    watched = list(remote.watch(runs[0]["id"]))
    assert [s["step"] for s in watched] == list(run["steps"]["step"])


def test_stream_batches_match_measure(server: str) -> None:
    """Many probes arrive packed several to a message; each one's outputs equal a measure at its parameters."""
    a = pnnlab.connect(server).device("a")
    p = a.descriptor.parameters
    with a.lease():
        base = a.set_parameters(p.lower + 0.5 * (p.upper - p.lower))
        x = inputs(a, 16, seed=6)
        probes = [{"id": 100 + i, "inputs": x} for i in range(200)]
        results = list(a.stream(probes))
        assert [r["id"] for r in results] == [100 + i for i in range(200)]
        y = a.measure(x)
        for r in results:
            np.testing.assert_allclose(r["outputs"], y, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.read_parameters(), base, rtol=0, atol=1e-9)


def test_run_steps_table_has_units(server: str) -> None:
    remote = pnnlab.connect(server)
    rid = remote.runs()[-1]["id"]
    run = remote.run(rid)
    steps = run["steps"]
    assert run["loss_unit"] == "nats"
    columns = list(steps.columns) if hasattr(steps, "columns") else list(steps.dtype.names)
    assert columns == [
        "step", "epoch", "batch_loss_nats", "train_accuracy", "test_accuracy",
        "measurements", "cumulative_measurements", "wall_seconds",
    ]
    plain = pnnlab.connect(server, pandas=False).run(rid)["steps"]
    assert isinstance(plain, np.ndarray) and plain.dtype.names == tuple(columns)
    np.testing.assert_array_equal(np.asarray(steps["step"]), plain["step"])
    assert run["parameters"].shape[0] == len(plain) and run["parameters"].shape[1] > 0
    try:
        import pandas as pd
    except ImportError:
        return
    assert isinstance(steps, pd.DataFrame)


def test_start_pause_resume(server: str) -> None:
    """A run started over the wire trains in the server; pause leaves it paused and the
    device writable; resume finishes it, watched step by step."""
    remote = pnnlab.connect(server)
    before = {r["id"] for r in remote.runs()}
    started = remote.start_run("a", task="xor", method="gauss-newton", epochs=4, seed=2)
    assert started["id"] not in before and started["status"] == "running"
    assert started["device"] == "sim:crossbar" and started["task"] == "xor"
    with pytest.raises(pnnlab.LeaseHeldError, match="run started over the wire"):
        pnnlab.connect(server).device("a").set_parameters(remote.device("a").descriptor.parameters.lower)
    paused = remote.pause(started["id"])
    assert paused["status"] == "paused"
    with pytest.raises(pnnlab.RemoteError, match="not training"):
        remote.pause(started["id"])
    resumed = remote.resume(started["id"])
    assert resumed["status"] == "running"
    watched = [s["step"] for s in remote.watch(started["id"])]
    done = remote.run(started["id"])
    assert done["status"] == "completed"
    assert watched == list(done["steps"]["step"]) and len(watched) > paused["steps"]


def test_start_run_refusals(server: str) -> None:
    remote = pnnlab.connect(server)
    with pytest.raises(pnnlab.RemoteError, match="no device 'nope'"):
        remote.start_run("nope", task="xor")
    with pytest.raises(pnnlab.RemoteError, match="remote://"):
        remote.start_run("b", task="two-task", method="coupled")


def test_remote_clln_trains_contrastive(bin_path: str, tmp_path) -> None:
    """A served CLLN twin: its capabilities from Python, and `pnnlab train remote://…/clln
    --method coupled` (host steps over the wire) completes."""
    child = subprocess.Popen(
        [bin_path, "serve", "--listen", "127.0.0.1:0", "--seed", "5", "--store", str(tmp_path / "serve.sqlite"),
         "--device", "clln=sim:clln"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    try:
        address = child.stdout.readline().strip()
        assert address, child.stderr.read()
        clln = pnnlab.connect(address).device("clln")
        d = clln.descriptor
        assert {"clampable", "self-learning", "node-readout"} <= set(d.capabilities)
        with clln.lease():
            clln.apply_inputs(np.full(d.inputs.count, 0.5 * (d.inputs.lower + d.inputs.upper)))
            clln.set_clamp("clamped", np.full(d.outputs.count, d.outputs.lower + 0.6 * (d.outputs.upper - d.outputs.lower)), 0.5)
            clln.learn(0.001)
            free, clamped = clln.read_nodes("free"), clln.read_nodes("clamped")
            assert free.shape == clamped.shape and free.size > 0 and np.all(np.isfinite(free))
            with pytest.raises(pnnlab.RemoteError, match="refused by the server"):
                clln.set_clamp("clamped", np.zeros(d.outputs.count), 3.0)
        trained = subprocess.run(
            [bin_path, "train", f"remote://{address}/clln", "--task", "two-task", "--method", "coupled",
             "--periods", "2", "--tau", "0.005", "--store", str(tmp_path / "client.sqlite"), "--json"],
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )
        assert trained.returncode == 0, trained.stderr
        result = json.loads(trained.stdout)
        assert result["status"] == "completed" and result["device"] == f"remote://{address}/clln"
        assert result["steps"] > 0
    finally:
        child.terminate()
        child.wait(timeout=30)


def test_calibrate_on_the_server(bin_path: str, tmp_path) -> None:
    """`device.calibrate()` runs the crossbar procedure on the server; the profile equals the
    one `pnnlab calibrate` measures on the same twin in process, and the errors against the
    server's hidden truth come back."""
    child = subprocess.Popen(
        [bin_path, "serve", "--listen", "127.0.0.1:0", "--seed", "5", "--store", str(tmp_path / "serve.sqlite"),
         "--device", "xb=sim:crossbar"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )
    try:
        address = child.stdout.readline().strip()
        assert address, child.stderr.read()
        seen = []
        result = pnnlab.connect(address).device("xb").calibrate(progress=lambda d, t, w: seen.append((d, t)))
        assert seen and all(0 <= d <= t for d, t in seen)
        local = subprocess.run(
            [bin_path, "calibrate", "sim:crossbar", "--seed", "5", "--store", str(tmp_path / "local.sqlite"), "--json"],
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
        )
        assert local.returncode == 0, local.stderr
        expected = json.loads(local.stdout)
        assert result["profile"]["family"] == "crossbar"
        assert result["profile"]["payload"] == expected["result"]
        assert result["truth"] == expected["truth"]
        with pytest.raises(pnnlab.RemoteError, match="no-such-option"):
            pnnlab.connect(address).device("xb").calibrate(["--no-such-option", "1"])
    finally:
        child.terminate()
        child.wait(timeout=30)


def test_measure_throughput(server: str) -> None:
    """Values landing in numpy through the client (reported, not a pass mark on a shared CI machine)."""
    a = pnnlab.connect(server).device("a")
    x = inputs(a, a.descriptor.max_batch or 256, seed=5)
    a.measure(x)
    start = time.perf_counter()
    values = 0
    while time.perf_counter() - start < 0.5:
        values += a.measure(x).size
    rate = values / (time.perf_counter() - start)
    print(f"\nremote measure: {rate:.3g} output values/s into numpy")
    assert rate > 0
