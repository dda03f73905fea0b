"""open_store against what the pnnlab binary itself prints for the same store."""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import pnnlab
from conftest import Recorded, run_json

pd = pytest.importorskip("pandas")

RUN_FIELDS = [
    "run", "kind", "status", "device", "family", "model", "serial", "firmware", "task", "method", "seed",
    "created_at", "updated_at", "steps", "epochs", "train_accuracy", "test_accuracy", "final_loss", "loss_unit",
    "measurements", "wall_seconds", "mode", "digital_ceiling", "calibration_id",
]


def same(a, b) -> bool:
    """Equal, with NaN equal to NaN and pnnlab's JSON spelling of it ("nan")."""
    def norm(x):
        if isinstance(x, float) and math.isnan(x):
            return "nan"
        return x
    return norm(a) == norm(b)


def test_runs_match_runs_json_field_for_field(recorded: Recorded, bin_path: str) -> None:
    expected = run_json(bin_path, "runs", "--json", "--store", str(recorded.path))
    runs = pnnlab.open_store(recorded.path, pandas=False).runs()
    assert len(runs) == len(expected) == 3
    for got, want in zip(runs, expected):
        assert isinstance(got, pnnlab.RunResult)
        assert sorted(got.as_json()) == sorted(want) == sorted(RUN_FIELDS)
        for key in RUN_FIELDS:
            assert got.as_json()[key] == want[key], f"run {want['run']}: {key}"
    assert [r.kind for r in runs] == ["contrastive", "jacobian", "jacobian"]
    # Jacobian runs carry their digital ceiling (a fraction), contrastive runs none.
    assert runs[0].digital_ceiling is None
    assert all(0 < r.digital_ceiling <= 1 for r in runs[1:])
    assert {r.loss_unit for r in runs} == {"V^2", "uA^2", "nats"}
    assert runs[0].created_at.tzinfo is not None


def test_runs_as_dataframe_has_the_json_columns(recorded: Recorded, bin_path: str) -> None:
    expected = run_json(bin_path, "runs", "--json", "--store", str(recorded.path))
    frame = pnnlab.open_store(recorded.path).runs()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == RUN_FIELDS
    assert len(frame) == len(expected)
    for (_, row), want in zip(frame.iterrows(), expected):
        for key in ("run", "kind", "status", "device", "task", "method", "seed", "steps", "epochs", "measurements", "loss_unit"):
            assert row[key] == want[key], key
        assert row["wall_seconds"] == want["wall_seconds"]
        assert same(row["final_loss"], want["final_loss"])
        assert row["created_at"].strftime("%Y-%m-%dT%H:%M:%SZ") == want["created_at"]
    assert str(frame["created_at"].dtype).startswith("datetime64")


@pytest.mark.parametrize("name", ["xor", "lsq", "clln"])
def test_run_matches_show_and_export(recorded: Recorded, bin_path: str, name: str) -> None:
    number = recorded.trained[name]["run"]
    show = run_json(bin_path, "show", str(number), "--json", "--store", str(recorded.path))
    export = run_json(bin_path, "export", str(number), "--format", "json", "--store", str(recorded.path))
    run = pnnlab.open_store(recorded.path).run(number)

    assert run.result.as_json() == {k: show[k] for k in RUN_FIELDS}
    assert run.result.as_json() == recorded.trained[name]  # what train --json printed at the end
    assert run.settings == show["settings"]
    assert run.evaluations_json() == show["evaluations"]

    steps = run.steps
    unit = {"nats": "nats", "uA^2": "uA2", "V^2": "V2"}[show["loss_unit"]]
    assert list(steps.columns) == [
        "step", "epoch", f"batch_loss_{unit}", f"eval_loss_{unit}", "train_accuracy", "test_accuracy",
        "measurements", "cumulative_measurements", "wall_seconds",
    ]
    assert len(steps) == show["steps"] == len(export["steps"])
    evaluated = steps[f"eval_loss_{unit}"].dropna()
    assert same(float(evaluated.iloc[-1]), show["final_loss"])
    for (_, row), want in zip(steps.iterrows(), export["steps"]):
        assert row["step"] == want["step"] and row["epoch"] == want["epoch"]
        assert same(row[f"batch_loss_{unit}"], want["batch_loss"] if want["batch_loss"] is not None else math.nan)
        assert same(row[f"eval_loss_{unit}"], want["eval_loss"] if want["eval_loss"] is not None else math.nan)
        assert row["cumulative_measurements"] == want["cumulative_measurements"]
        assert row["wall_seconds"] == want["wall_seconds"]
    assert steps["cumulative_measurements"].iloc[-1] == show["measurements"]
    np.testing.assert_array_equal(run.parameters, np.array([s["parameters"] for s in export["steps"]]))
    assert run.parameters.shape == (show["steps"], export["parameter_count"])


def test_numpy_structured_arrays_without_pandas(recorded: Recorded) -> None:
    run = pnnlab.open_store(recorded.path, pandas=False).run(recorded.trained["xor"]["run"])
    steps = run.steps
    assert isinstance(steps, np.ndarray) and steps.dtype.names is not None
    assert steps.dtype.names[:4] == ("step", "epoch", "batch_loss_nats", "eval_loss_nats")
    assert steps["step"].tolist() == list(range(1, len(steps) + 1))
    assert np.isnan(steps["train_accuracy"][0]) and steps["train_accuracy"][-1] == run.train_accuracy
    evaluations = run.evaluations
    assert evaluations["epoch"].tolist() == list(range(1, run.epochs + 1))
    assert evaluations["eval_loss_nats"][-1] == run.final_loss

    clln = pnnlab.open_store(recorded.path, pandas=False).run(recorded.trained["clln"]["run"])
    errors = clln.evaluations["task_errors_V2"]
    assert errors.shape == (len(clln.evaluations), 2)
    assert errors[-1].tolist() == clln.evaluations_json()[-1]["task_errors_v2"]


def test_measurement_blobs_are_row_major_float64(recorded: Recorded) -> None:
    run = pnnlab.open_store(recorded.path).run(recorded.trained["xor"]["run"])
    blocks = run.measurements("batch_outputs")
    assert [b.step for b in blocks] == run.steps["step"].tolist()  # one batch per step
    epoch_one = [b for b in blocks if b.step <= 5]
    assert sum(b.values.shape[0] for b in epoch_one) == 140  # xor: 200 samples, 70 % for training
    assert all(b.values.shape[1] == 2 for b in blocks)  # one differential output per class
    assert all(np.isfinite(b.values).all() for b in blocks)
    tests = run.measurements("test_outputs")
    assert [b.step for b in tests] == run.evaluations["step"].tolist()
    assert {b.values.shape for b in tests} == {(60, 2)}
    # The blob as stored, decoded by hand, is the same array.
    with sqlite3.connect(f"file:{recorded.path}?mode=ro", uri=True) as db:
        rows, cols, blob = db.execute(
            'SELECT rows, cols, "values" FROM measurement WHERE run_id = ? AND kind = ? ORDER BY step LIMIT 1',
            (run.run, "batch_outputs"),
        ).fetchone()
    assert len(blob) == 8 * rows * cols
    np.testing.assert_array_equal(blocks[0].values, np.frombuffer(blob, "<f8").reshape(rows, cols))


def test_devices_match_attach(recorded: Recorded) -> None:
    devices = pnnlab.open_store(recorded.path).devices()
    assert len(devices) == 1
    d, want = devices[0], recorded.attached
    for key in ("name", "family", "model", "serial", "firmware", "port", "inputs", "input_unit", "outputs",
                "output_unit", "parameters", "parameter_unit"):
        assert getattr(d, key) == want[key], key
    assert d.descriptor["identity"]["serial"] == want["serial"]


def test_profiles_match_calibrate(recorded: Recorded) -> None:
    store = pnnlab.open_store(recorded.path)
    profiles = store.profiles()
    assert len(profiles) == 1
    p, want = profiles[0], recorded.calibrated
    assert p.calibration_id == want["calibration_id"]
    for key in ("family", "serial", "procedure", "procedure_version", "result"):
        assert getattr(p, key) == want[key], key
    assert p.created_at.strftime("%Y-%m-%dT%H:%M:%SZ") == want["created_at"]
    assert store.profiles(serial=want["serial"]) == profiles
    assert store.profiles(serial="no-such-board") == []


def test_run_not_found(recorded: Recorded) -> None:
    with pytest.raises(pnnlab.RunNotFoundError, match="run 999 does not exist") as caught:
        pnnlab.open_store(recorded.path).run(999)
    assert isinstance(caught.value, LookupError)


def digest(path: Path) -> tuple:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def test_reading_never_writes(recorded: Recorded, store_copy: Path) -> None:
    wal = Path(str(store_copy) + "-wal")
    before = digest(store_copy), (digest(wal) if wal.exists() else None)
    with pnnlab.open_store(store_copy) as store:
        store.runs()
        for r in store.runs()["run"]:
            run = store.run(int(r))
            run.steps, run.evaluations, run.parameters, run.measurements()
        store.devices(), store.profiles()
        with pytest.raises(sqlite3.OperationalError):  # the connection itself refuses writes
            store._conn.execute("DELETE FROM run")
    assert (digest(store_copy), (digest(wal) if wal.exists() else None)) == before


def test_a_missing_store_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nothing.sqlite"
    with pytest.raises(pnnlab.StoreNotFoundError, match="no such file"):
        pnnlab.open_store(path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(pnnlab.StoreError, match="folder"):
        pnnlab.open_store(tmp_path)


def test_a_newer_schema_is_refused_as_pnnlab_does(store_copy: Path, bin_path: str) -> None:
    with sqlite3.connect(store_copy) as db:
        db.execute("INSERT INTO grdb_migrations (identifier) VALUES ('v3')")
    with pytest.raises(pnnlab.NewerSchemaError, match="newer pnnlab") as caught:
        pnnlab.open_store(store_copy)
    assert "\n" not in str(caught.value)
    with pytest.raises(pnnlab.PnnlabError, match="newer pnnlab"):
        pnnlab.cli("runs", store=store_copy)


def test_an_older_v1_store_reads_without_calibrations(store_copy: Path) -> None:
    with sqlite3.connect(store_copy) as db:
        db.execute("DELETE FROM grdb_migrations WHERE identifier IN ('v2', 'v3-digital-ceiling', 'v4-run-calibration')")
        db.execute("DROP TABLE calibration")
        db.execute("ALTER TABLE run DROP COLUMN digital_ceiling")
        db.execute("ALTER TABLE run DROP COLUMN calibration_id")
    store = pnnlab.open_store(store_copy, pandas=False)
    assert store.schema == "v1"
    assert store.profiles() == []
    runs = store.runs()
    assert len(runs) == 3
    assert all(r.digital_ceiling is None for r in runs), "a store from before v3 has no ceilings"
    assert all(r.calibration_id is None for r in runs), "a store from before v4 records no profiles"


@pytest.mark.parametrize(
    "content, error",
    [
        (b"", pnnlab.NotAStoreError),
        (b"step,epoch,batch_loss\n1,0,0.5\n", pnnlab.NotAStoreError),
        (os.urandom(4096), pnnlab.NotAStoreError),
    ],
    ids=["empty", "csv", "random"],
)
def test_files_that_are_not_stores(tmp_path: Path, content: bytes, error: type) -> None:
    path = tmp_path / "x.sqlite"
    path.write_bytes(content)
    with pytest.raises(error, match="not a pnnlab store"):
        pnnlab.open_store(path)


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE samples (id INTEGER)")
    with pytest.raises(pnnlab.NotAStoreError):
        pnnlab.open_store(path)


def test_a_store_being_created_is_not_called_foreign(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    with sqlite3.connect(path) as db:  # what pnnlab has written before its first migration commits
        db.execute("PRAGMA journal_mode = wal")
        db.execute("CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
    with pytest.raises(pnnlab.StoreError, match="still being created") as caught:
        pnnlab.open_store(path)
    assert not isinstance(caught.value, pnnlab.NotAStoreError)


def test_a_damaged_file_raises_a_store_error_not_sqlite(store_copy: Path) -> None:
    with pnnlab.open_store(store_copy) as store:
        page = 16384
        assert os.path.getsize(store_copy) > 4 * page
    data = bytearray(store_copy.read_bytes())
    for offset in range(page, len(data), page):  # every page but the first (the schema) scribbled over
        data[offset : offset + page] = b"\xa5" * page
    store_copy.write_bytes(bytes(data))
    Path(str(store_copy) + "-wal").unlink(missing_ok=True)
    with pytest.raises(pnnlab.CorruptStoreError, match="damaged") as caught:
        store = pnnlab.open_store(store_copy)
        store.runs()
        for r in store.runs()["run"]:
            store.run(int(r)).parameters
    assert not isinstance(caught.value, sqlite3.Error)


def test_damaged_values_name_the_run(store_copy: Path) -> None:
    with sqlite3.connect(store_copy) as db:
        db.execute("UPDATE run SET seed = 'forty-two' WHERE id = 1")
        db.execute("UPDATE step SET parameters = x'0102030405' WHERE run_id = 2 AND step = 1")
    store = pnnlab.open_store(store_copy)
    with pytest.raises(pnnlab.CorruptStoreError, match="run 1 has seed 'forty-two'"):
        store.runs()
    with pytest.raises(pnnlab.CorruptStoreError, match="5 bytes"):
        store.run(2).parameters


READ_ONLY_PROBE = """
import sys, pnnlab
try:
    store = pnnlab.open_store(sys.argv[1], pandas=False)
    print(len(store.runs()), store.run(1).parameters.shape[0])
except pnnlab.StoreError as e:
    print("StoreError:", e)
"""


def as_reader_who_cannot_write(folder: Path, store: Path) -> str:
    """Runs READ_ONLY_PROBE on ``store`` as a user who may not write ``folder``."""
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    interpreter = sys.executable
    prefix: list = []
    if os.geteuid() == 0:  # root writes anywhere: read as nobody instead
        prefix = ["runuser", "-u", "nobody", "--", "env", f"PYTHONPATH={env['PYTHONPATH']}"]
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        for candidate in (sys.executable, "/usr/bin/python3"):  # nobody may not reach a pyenv interpreter
            try:
                probe = subprocess.run(
                    [*prefix, candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                    capture_output=True, text=True, timeout=30,
                )
            except FileNotFoundError:
                pytest.skip("no runuser to read as another user")
            if probe.returncode == 0 and probe.stdout.strip() == version:
                interpreter = candidate
                break
    else:
        folder.chmod(0o555)
    command = [*prefix, interpreter, "-c", READ_ONLY_PROBE, str(store)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    except FileNotFoundError:
        pytest.skip("no runuser to read as another user")
    finally:
        folder.chmod(0o755)
    if done.returncode != 0 and ("Permission denied" in done.stderr or "No module named" in done.stderr):
        pytest.skip(f"this interpreter cannot run as another user: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_store_in_a_folder_the_reader_cannot_write(store_copy: Path) -> None:
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="pnnlab-readonly-"))  # directly in the temp folder: others may enter
    try:
        folder.chmod(0o755)
        store = folder / "pnnlab.sqlite"
        source, target = sqlite3.connect(store_copy), sqlite3.connect(store)
        source.backup(target)  # one file holding every committed step, still in WAL mode
        source.close()
        target.close()
        assert sorted(p.name for p in folder.iterdir()) == ["pnnlab.sqlite"]
        store.chmod(0o644)
        assert as_reader_who_cannot_write(folder, store) == "3 75"
        assert sorted(p.name for p in folder.iterdir()) == ["pnnlab.sqlite"]  # no -shm or -wal left beside it
        Path(str(store) + "-wal").write_bytes(b"a log a writer left behind")
        Path(str(store) + "-wal").chmod(0o644)
        assert as_reader_who_cannot_write(folder, store).startswith("StoreError: cannot open store")
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)
