"""Reading a pnnlab run store (``pnnlab.sqlite``) directly, read-only.

The store is the SQLite file (WAL mode) that ``pnnlab train`` records into. This module opens
it with SQLite's ``mode=ro`` URI, so it never writes the store, never creates one, never
migrates one, and never blocks a live run that is appending steps: every read is one short
read transaction on a consistent snapshot of the committed steps.

Layout (schema migrations ``v1``, ``v2``, ``v3-digital-ceiling``, ``v4-run-calibration``; ``Sources/PNNStore/Schema.swift`` is the source of
truth): tables ``run``, ``step``, ``measurement``, ``device``, ``calibration``. Times are Unix
seconds; ``seed`` is decimal text (a UInt64); ``config``, ``summary``, ``checkpoint``,
``descriptor`` and ``profile`` are JSON text. ``step.parameters`` and ``measurement."values"``
are raw little-endian IEEE-754 float64 with no header (``8 * n`` bytes), read with
``np.frombuffer(blob, "<f8")``; a measurement block is row-major ``rows × cols``. A NULL
``loss`` is a NaN loss (a diverged step); a NULL accuracy means "not evaluated at this step".
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import fcntl
import json
import math
import os
import sqlite3
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import (
    CorruptStoreError,
    NewerSchemaError,
    NotAStoreError,
    RunNotFoundError,
    StoreError,
    StoreNotFoundError,
)

#: ``PRAGMA application_id`` of a pnnlab store ("PNNL" in ASCII).
APPLICATION_ID = 0x504E4E4C
#: The schema migrations this package knows, oldest first. A store that has applied any
#: other migration was written by a newer pnnlab and is refused (:class:`NewerSchemaError`).
KNOWN_MIGRATIONS: Tuple[str, ...] = ("v1", "v2", "v3-digital-ceiling", "v4-run-calibration")

#: Column-name suffix of each loss unit (``loss_unit`` in results): ``batch_loss_nats``...
LOSS_UNIT_SUFFIX = {"nats": "nats", "uA^2": "uA2", "V^2": "V2"}

_TABLES = {"grdb_migrations", "device", "run", "step", "measurement", "calibration"}
_TRAINER_STATE_KEYS = ("epoch", "batchIndex", "globalStep", "theta", "order", "rng", "cumulativeMeasurements", "wallSeconds")
_CONTRASTIVE_CHECKPOINT_KEYS = ("kind", "period", "task", "time", "r0", "steps", "skipped", "errors", "accuracies")


def _pandas(wanted: Optional[bool]):
    """The pandas module when frames are wanted (None: when it is installed), else None."""
    if wanted is False:
        return None
    try:
        import pandas  # noqa: PLC0415 (optional dependency)
    except ImportError:
        if wanted:
            raise
        return None
    return pandas


def _utc(seconds: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)


def _iso(t: _dt.datetime) -> str:
    """ISO 8601 to the second, as pnnlab's JSON writes times (truncated, UTC, ``Z``)."""
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _nan_if_none(x: Optional[float]) -> float:
    return math.nan if x is None else float(x)


def _json_number(x: Optional[float]) -> Any:
    """A float as pnnlab's JSON writes it: NaN and infinities as strings, None as null."""
    if x is None:
        return None
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _json_object(text: Optional[str]) -> Optional[Dict[str, Any]]:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def _snake_case(key: str) -> str:
    """``learningRate`` → ``learning_rate``; keys holding an underscore (``g_max_uS``) stay."""
    if "_" in key:
        return key
    out = []
    for ch in key:
        if ch.isupper():
            if out:
                out.append("_")
            out.append(ch.lower())
        else:
            out.append("_" if ch == "-" else ch)
    return "".join(out)


def _snake_cased(value: Any) -> Any:
    if isinstance(value, dict):
        return {_snake_case(k): _snake_cased(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake_cased(v) for v in value]
    return value


def _floats(blob: Optional[bytes], what: str, path: str) -> np.ndarray:
    """A float64 blob as a read-only numpy array (SQLite reports an empty blob as NULL)."""
    if blob is None:
        return np.empty(0, dtype="<f8")
    if len(blob) % 8 != 0:
        raise CorruptStoreError(f"store {path} is damaged: {what} holds {len(blob)} bytes, not a list of float64 values")
    return np.frombuffer(blob, dtype="<f8")


# MARK: records


@dataclass(frozen=True)
class RunResult:
    """One run as ``pnnlab runs --json`` prints it: the same fields, names and units.

    ``created_at``/``updated_at`` are timezone-aware UTC datetimes (the JSON has them to the
    second); accuracies are fractions 0…1 (None: never evaluated, or no test split);
    ``final_loss`` is the last evaluation loss in ``loss_unit`` (``nats``, ``uA^2`` or
    ``V^2``); ``measurements`` counts input vectors applied to the device; ``wall_seconds``
    is the wall time of all committed steps. ``kind`` is ``jacobian`` or ``contrastive``.
    """

    run: int
    kind: str
    status: str
    device: str
    family: str
    model: str
    serial: str
    firmware: str
    task: str
    method: str
    seed: int
    created_at: _dt.datetime
    updated_at: _dt.datetime
    steps: int
    epochs: int
    train_accuracy: Optional[float]
    test_accuracy: Optional[float]
    final_loss: Optional[float]
    loss_unit: str
    measurements: int
    wall_seconds: float
    mode: Optional[str]
    #: Test accuracy (0…1) of the same linear map, encoding and split trained digitally:
    #: what ``test_accuracy`` is chasing. None for contrastive runs and for runs recorded
    #: before the store kept it (schema ``v3-digital-ceiling``).
    digital_ceiling: Optional[float] = None
    #: The calibration profile the device had when the run was created (``pnnlab profiles
    #: show ID``); None when it had none or the store predates ``v4-run-calibration``.
    calibration_id: Optional[int] = None

    def as_json(self) -> Dict[str, Any]:
        """The dict ``pnnlab runs --json`` prints for this run (ISO times, NaN as ``"nan"``)."""
        d = dataclasses.asdict(self)
        d["created_at"] = _iso(self.created_at)
        d["updated_at"] = _iso(self.updated_at)
        for k in ("train_accuracy", "test_accuracy", "final_loss", "wall_seconds", "digital_ceiling"):
            d[k] = _json_number(d[k])
        return d


@dataclass(frozen=True)
class Device:
    """A board registered with ``pnnlab attach`` (its name is a DEVICE argument).

    ``inputs``/``outputs``/``parameters`` are channel counts with their units as the board
    reported them (e.g. V, µA, µS); ``descriptor`` is the full descriptor it reported.
    """

    name: str
    family: str
    model: str
    serial: str
    firmware: str
    port: str
    registered_at: _dt.datetime
    inputs: Optional[int]
    input_unit: Optional[str]
    outputs: Optional[int]
    output_unit: Optional[str]
    parameters: Optional[int]
    parameter_unit: Optional[str]
    descriptor: Dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class CalibrationProfile:
    """A calibration profile stored by ``pnnlab calibrate`` (names as in its ``--json``).

    ``result`` is the procedure's payload (what ``calibrate --json`` prints as ``result``),
    ``summary`` its headline figures with units in the keys, ``document`` the whole
    versioned profile (``Calibration/README.md``).
    """

    calibration_id: int
    family: str
    serial: str
    procedure: str
    procedure_version: int
    created_at: _dt.datetime
    model: Optional[str]
    firmware: Optional[str]
    summary: Dict[str, Any]
    result: Any = field(repr=False)
    document: Dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Measurement:
    """A block of measured values of one step: ``values`` is ``rows × cols`` (row-major blob).

    Kinds: ``batch_outputs`` (Jacobian runs: the outputs of the step's batch, one row per
    sample, one column per output channel, in the device's output unit, e.g. µA),
    ``test_outputs`` (the test split at an evaluated step), ``outputs`` and ``trace``
    (contrastive runs: free outputs per task and point; gate voltages within the last period).
    """

    step: int
    kind: str
    values: np.ndarray


# MARK: the store


class Store:
    """A pnnlab run store opened read-only (see :func:`open_store`).

    Methods return pandas DataFrames for tables when pandas is installed (``pandas=True``
    requires it, ``pandas=False`` gives numpy structured arrays / lists instead).
    """

    def __init__(self, path: Union[str, os.PathLike], *, pandas: Optional[bool] = None) -> None:
        self.path = os.fspath(path)
        self._pd = _pandas(pandas)
        self._conn: Optional[sqlite3.Connection] = None
        if not self.path:
            raise StoreError("the store path is empty: give the name of a store file")
        if os.path.isdir(self.path):
            raise StoreError(f"cannot open store {self.path}: it is a folder, not a file")
        if not os.path.exists(self.path):
            raise StoreNotFoundError(f"cannot open store {self.path}: no such file")
        try:
            with open(self.path, "rb") as f:
                head = f.read(16)
        except OSError as e:
            raise StoreError(f"cannot open store {self.path}: {e.strerror or e}") from None
        if not head:
            raise NotAStoreError(f"store file {self.path} is not a pnnlab store (it is empty)")
        if head != b"SQLite format 3\x00":
            raise NotAStoreError(f"store file {self.path} is not a pnnlab store")
        self._conn = self._connect()
        try:
            #: The newest schema migration the store has applied (``v2``).
            self.schema = self._check_schema()
        except BaseException:
            self.close()
            raise

    # -- opening

    def _uri(self, mode: str) -> str:
        return "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?" + mode

    def _connect(self) -> sqlite3.Connection:
        """``mode=ro``; where SQLite cannot create the WAL index beside a store this user may
        not write (and no log is pending), ``immutable=1`` instead."""
        try:
            return self._open("mode=ro")
        except sqlite3.DatabaseError as e:
            wal = self.path + "-wal"
            pending = os.path.exists(wal) and os.path.getsize(wal) > 0
            cannot_index = "readonly" in str(e) or "unable to open" in str(e)
            if pending and cannot_index:
                raise StoreError(
                    f"cannot open store {self.path}: its log {wal} holds changes not yet in the file, and reading "
                    "them needs write access to its folder; copy the store (with its -wal) somewhere writable"
                ) from None
            if not cannot_index:
                raise self._error(e) from None
        # Nobody can be writing a store whose folder this user cannot write and that has no
        # log: read the file as it is, as pnnlab itself does for a read-only store.
        try:
            return self._open("mode=ro&immutable=1")
        except sqlite3.DatabaseError as e:
            raise self._error(e) from None

    def _open(self, mode: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri(mode), uri=True, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA application_id").fetchone()
            conn.execute("PRAGMA query_only = 1")
        except BaseException:
            conn.close()
            raise
        return conn

    def _check_schema(self) -> str:
        with self._read() as db:
            app_id = db.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if app_id == 0 and tables <= _TABLES:
                # pnnlab writes the application id in its first migration: a store with only
                # pnnlab's tables and no id is being created right now (or that was cut short).
                raise StoreError(f"store {self.path} is still being created by pnnlab; open it again in a moment")
            if app_id != APPLICATION_ID:
                raise NotAStoreError(f"store file {self.path} is not a pnnlab store")
            if "grdb_migrations" not in tables:
                raise CorruptStoreError(f"store {self.path} is damaged: its migration log is missing")
            applied = [r[0] for r in db.execute("SELECT identifier FROM grdb_migrations")]
        unknown = sorted(set(applied) - set(KNOWN_MIGRATIONS))
        if unknown:
            raise NewerSchemaError(
                f"store {self.path} was written by a newer pnnlab (schema {', '.join(unknown)}; this package reads "
                f"{', '.join(KNOWN_MIGRATIONS)}); upgrade the pnnlab Python package to read it"
            )
        if "v1" not in applied:
            raise CorruptStoreError(f"store {self.path} is damaged: it has no tables yet (its creation was cut short)")
        return max(applied, key=KNOWN_MIGRATIONS.index)

    def _error(self, e: Optional[BaseException]) -> StoreError:
        text = str(e) if e is not None else "unknown error"
        if "not a database" in text:
            return NotAStoreError(f"store file {self.path} is not a pnnlab store")
        if "malformed" in text or "corrupt" in text:
            return CorruptStoreError(f"store {self.path} is damaged: SQLite reports a malformed database file")
        if "no such table" in text or "no such column" in text:
            return CorruptStoreError(f"store {self.path} is damaged: {text} (the store's tables were altered)")
        if "unable to open" in text:
            return StoreError(f"cannot open store {self.path}: SQLite cannot open the file ({text})")
        if "locked" in text or "busy" in text:
            return StoreError(f"store {self.path}: locked by another process for more than 10 s")
        return StoreError(f"store {self.path}: {text}")

    class _Snapshot:
        def __init__(self, store: "Store") -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            conn = self.store._conn
            if conn is None:
                raise StoreError(f"store {self.store.path} is closed")
            try:
                conn.execute("BEGIN")
            except sqlite3.DatabaseError as e:
                raise self.store._error(e) from None
            return conn

        def __exit__(self, kind, value, tb) -> bool:
            conn = self.store._conn
            try:
                if conn is not None and conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.DatabaseError:
                pass
            if isinstance(value, sqlite3.DatabaseError):
                raise self.store._error(value) from None
            return False

    def _read(self) -> "Store._Snapshot":
        """A read transaction: everything inside sees one snapshot of committed data."""
        return Store._Snapshot(self)

    def close(self) -> None:
        """Closes the connection (idempotent)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"pnnlab.Store({self.path!r}, schema={getattr(self, 'schema', '?')})"

    # -- liveness

    def _lease_held(self, run_id: int) -> bool:
        """Whether a live process holds run ``run_id``'s lease (``<store>-locks/run-N.lock``)."""
        try:
            fd = os.open(f"{self.path}-locks/run-{run_id}.lock", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def _live_status(self, run_id: int, stored: str) -> str:
        """A ``running`` run whose recorder died reads as ``interrupted`` (as ``pnnlab runs``)."""
        if stored != "running" or self._lease_held(run_id):
            return stored
        with self._read() as db:
            row = db.execute("SELECT status FROM run WHERE id = ?", (run_id,)).fetchone()
        status = row[0] if row else stored
        return "interrupted" if status == "running" else status

    # -- runs

    def runs(self):
        """Every run, newest first, as ``pnnlab runs --json`` lists them.

        A DataFrame (one row per run, columns named as the JSON keys) when pandas is
        available, else a list of :class:`RunResult`.
        """
        with self._read() as db:
            rows = db.execute(f"SELECT {_run_columns(db)} FROM run ORDER BY created_at DESC, id DESC").fetchall()
            results = [_Loaded.load(db, row, self.path).result for row in rows]
        results = [
            dataclasses.replace(r, status=self._live_status(r.run, r.status)) if r.status == "running" else r
            for r in results
        ]
        if self._pd is None:
            return results
        frame = self._pd.DataFrame([dataclasses.asdict(r) for r in results], columns=[f.name for f in dataclasses.fields(RunResult)])
        for column in ("created_at", "updated_at"):
            frame[column] = self._pd.to_datetime(frame[column], utc=True)
        return frame

    def run(self, run_id: int) -> "Run":
        """Run ``run_id`` with its steps, evaluations and settings (``pnnlab show``)."""
        with self._read() as db:
            row = db.execute(f"SELECT {_run_columns(db)} FROM run WHERE id = ?", (int(run_id),)).fetchone()
            if row is None:
                raise RunNotFoundError(f"run {run_id} does not exist in {self.path}")
            loaded = _Loaded.load(db, row, self.path, with_steps=True)
        result = loaded.result
        if result.status == "running":
            result = dataclasses.replace(result, status=self._live_status(result.run, result.status))
        return Run(self, result, loaded)

    def watch(
        self,
        run_id: int,
        *,
        after: int = 0,
        poll_seconds: float = 0.25,
        timeout: Optional[float] = None,
        sleep=None,
        clock=None,
    ) -> Iterator[Dict[str, Any]]:
        """Yields run ``run_id``'s steps as they are committed, from step ``after + 1`` on, one
        dict per step with the keys of :attr:`Run.steps` (``batch_loss_nats``...).

        Reads the store every ``poll_seconds`` and returns once the run is no longer
        ``running`` and every committed step has been yielded (at once for a finished run).
        ``timeout`` (seconds without a new step) raises :class:`TimeoutError`. ``sleep`` and
        ``clock`` default to ``time.sleep`` and ``time.monotonic``.
        """
        sleep = sleep or time.sleep
        clock = clock or time.monotonic
        last = int(after)
        quiet_since = clock()
        while True:
            with self._read() as db:
                row = db.execute(f"SELECT {_run_columns(db)} FROM run WHERE id = ?", (int(run_id),)).fetchone()
                if row is None:
                    raise RunNotFoundError(f"run {run_id} does not exist in {self.path}")
                stored_status = row[10]
                config = _json_object(row[9])
                rows = db.execute(
                    "SELECT step, epoch, loss, train_accuracy, test_accuracy, measurements, cumulative_measurements, "
                    "wall_seconds FROM step WHERE run_id = ? AND step > ? ORDER BY step",
                    (int(run_id), last),
                ).fetchall()
                contrastive = isinstance(config, dict) and config.get("kind") == "contrastive"
                states = {} if contrastive else _trainer_states(db, int(run_id), [r[0] for r in rows if r[3] is not None or r[4] is not None])
            trainer = config.get("trainer") if isinstance(config, dict) else None
            unit = "V2" if contrastive else ("uA2" if isinstance(trainer, dict) and trainer.get("readout") == "least-squares" else "nats")
            for r in rows:
                if contrastive:
                    batch, evaluation = math.nan, _nan_if_none(r[2])
                else:
                    state = states.get(r[0])
                    batch, evaluation = _nan_if_none(r[2]), _nan_if_none(state.get("lastLoss") if state else None)
                yield {
                    "step": r[0], "epoch": r[1], f"batch_loss_{unit}": batch, f"eval_loss_{unit}": evaluation,
                    "train_accuracy": _nan_if_none(r[3]), "test_accuracy": _nan_if_none(r[4]), "measurements": r[5],
                    "cumulative_measurements": r[6], "wall_seconds": r[7],
                }
                last = r[0]
            if rows:
                quiet_since = clock()
                continue  # read again at once: more may have been committed meanwhile
            if stored_status != "running" or self._live_status(int(run_id), stored_status) != "running":
                # The recorder writes its last step before its final status; one more read
                # catches a step committed between the two reads above.
                with self._read() as db:
                    more = db.execute("SELECT COUNT(*) FROM step WHERE run_id = ? AND step > ?", (int(run_id), last)).fetchone()[0]
                if more == 0:
                    return
                continue
            if timeout is not None and clock() - quiet_since > timeout:
                raise TimeoutError(f"run {run_id} committed no step for {timeout} s")
            sleep(poll_seconds)

    # -- devices and profiles

    def devices(self) -> List[Device]:
        """Boards registered with ``pnnlab attach``, sorted by name."""
        with self._read() as db:
            rows = db.execute(
                "SELECT name, family, model, serial, firmware, port, descriptor, registered_at FROM device ORDER BY name"
            ).fetchall()
        out = []
        for name, family, model, serial, firmware, port, descriptor, registered in rows:
            d = _json_object(descriptor)
            if d is None:
                raise CorruptStoreError(f"store {self.path} is damaged: device {name} has a descriptor that is not JSON")
            inputs, outputs, parameters = (d.get(k) if isinstance(d.get(k), dict) else {} for k in ("inputs", "outputs", "parameters"))
            lower = parameters.get("lower")
            out.append(
                Device(
                    name=name, family=family, model=model, serial=serial, firmware=firmware, port=port,
                    registered_at=_utc(registered), inputs=inputs.get("count"), input_unit=inputs.get("unit"),
                    outputs=outputs.get("count"), output_unit=outputs.get("unit"),
                    parameters=len(lower) if isinstance(lower, list) else parameters.get("count"),
                    parameter_unit=parameters.get("unit"), descriptor=d,
                )
            )
        return out

    def profiles(self, serial: Optional[str] = None, family: Optional[str] = None) -> List[CalibrationProfile]:
        """Calibration profiles, newest first; only those of a serial (and family) when given."""
        with self._read() as db:
            has_table = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calibration'").fetchone()
            if not has_table:
                return []  # a v1 store: no calibrations yet
            sql = "SELECT id, family, serial, procedure, version, created_at, profile FROM calibration"
            clauses, args = [], []
            if serial is not None:
                clauses.append("serial = ?")
                args.append(serial)
            if family is not None:
                clauses.append("family = ?")
                args.append(family)
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            rows = db.execute(sql + " ORDER BY created_at DESC, id DESC", args).fetchall()
        out = []
        for cid, fam, ser, procedure, version, created, text in rows:
            doc = _json_object(text)
            if doc is None:
                raise CorruptStoreError(f"store {self.path} is damaged: calibration {cid} is not a JSON profile")
            summary = doc.get("summary")
            out.append(
                CalibrationProfile(
                    calibration_id=cid, family=fam, serial=ser, procedure=procedure, procedure_version=version,
                    created_at=_utc(created), model=doc.get("model"), firmware=doc.get("firmware"),
                    summary=summary if isinstance(summary, dict) else {}, result=doc.get("payload"), document=doc,
                )
            )
        return out


_RUN_COLUMNS = "id, device_name, family, model, serial, firmware, task, method, seed, config, status, created_at, updated_at, summary"


def _run_columns(db: sqlite3.Connection) -> str:
    """The run columns to select: ``digital_ceiling`` (v3) and ``calibration_id`` (v4) where the
    store has them, NULL before."""
    names = {r[1] for r in db.execute("PRAGMA table_info(run)")}
    return (
        _RUN_COLUMNS
        + (", digital_ceiling" if "digital_ceiling" in names else ", NULL")
        + (", calibration_id" if "calibration_id" in names else ", NULL")
    )


class _Loaded:
    """A run's row and steps read in one snapshot, with its result derived as pnnlab does
    (``RunDetail.load`` in ``Sources/PNNRuns/RunResult.swift``)."""

    def __init__(self) -> None:
        self.result: RunResult
        self.config_text = ""
        self.config: Any = None
        self.steps: Dict[str, np.ndarray] = {}
        self.eval_loss: Dict[int, float] = {}
        self.evaluations: List[Dict[str, Any]] = []
        self.last_step = 0

    @staticmethod
    def load(db: sqlite3.Connection, row: Sequence[Any], path: str, with_steps: bool = False) -> "_Loaded":
        (rid, device, family, model, serial, firmware, task, method, seed_text, config_text, status, created, updated,
         summary_text, ceiling, calibration) = row
        try:
            seed = int(seed_text)
        except (TypeError, ValueError):
            raise CorruptStoreError(f"store {path} is damaged: run {rid} has seed {seed_text!r}") from None
        if status not in ("running", "paused", "completed", "failed", "aborted", "interrupted"):
            raise CorruptStoreError(f'store {path} is damaged: run {rid} has unknown status "{status}"')
        me = _Loaded()
        me.config_text = config_text
        try:
            me.config = json.loads(config_text)
        except (TypeError, ValueError):
            me.config = None
        contrastive = isinstance(me.config, dict) and me.config.get("kind") == "contrastive"
        rows = db.execute(
            "SELECT step, epoch, loss, train_accuracy, test_accuracy, measurements, cumulative_measurements, wall_seconds "
            "FROM step WHERE run_id = ? ORDER BY step",
            (rid,),
        ).fetchall()
        n = len(rows)
        me.last_step = rows[-1][0] if rows else 0
        wall = 0.0
        walls = []
        for r in rows:  # left to right, as pnnlab sums (not math.fsum, not sum() on 3.12+)
            wall += r[7]
            walls.append(wall)
        train = next((r[3] for r in reversed(rows) if r[3] is not None), None)
        test = next((r[4] for r in reversed(rows) if r[4] is not None), None)
        epochs = 0
        final_loss: Optional[float] = None
        mode = None
        if contrastive:
            loss_unit = "V^2"
            checkpoints = dict(db.execute("SELECT step, checkpoint FROM step WHERE run_id = ?", (rid,)).fetchall())
            for i, r in enumerate(rows):
                c = _json_object(checkpoints.get(r[0]))
                if c is None or any(k not in c for k in _CONTRASTIVE_CHECKPOINT_KEYS) or c["kind"] not in (0, 1, 2):
                    continue
                errors = c["errors"] if isinstance(c["errors"], list) else []
                ends_period = c["kind"] == 1 and c["task"] == max(len(errors) - 1, 0)
                if not (c["kind"] == 0 or ends_period):
                    continue
                if ends_period:
                    epochs = c["period"] + 1
                me.evaluations.append(
                    {
                        "period": 0 if c["kind"] == 0 else c["period"] + 1, "step": r[0],
                        "eval_loss": _nan_if_none(r[2]), "train_accuracy": r[3], "test_accuracy": None,
                        "task_errors_v2": [float(e) for e in errors], "cumulative_measurements": r[6],
                        "wall_seconds": walls[i],
                    }
                )
            final_loss = _nan_if_none(rows[-1][2]) if rows else None
            test = None
            summary = _json_object(summary_text)
            if summary is not None and isinstance(summary.get("mode"), str):
                mode = summary["mode"]
            for r in rows:
                me.eval_loss[r[0]] = _nan_if_none(r[2])
        else:
            trainer = me.config.get("trainer") if isinstance(me.config, dict) else None
            readout = trainer.get("readout") if isinstance(trainer, dict) else None
            loss_unit = "uA^2" if readout == "least-squares" else "nats"
            wanted = [r[0] for r in rows if r[3] is not None or r[4] is not None]
            if rows:
                wanted.append(rows[-1][0])
            states = _trainer_states(db, rid, wanted)
            for i, r in enumerate(rows):
                if r[3] is None and r[4] is None:
                    continue
                state = states.get(r[0])
                loss = state.get("lastLoss") if state is not None else None
                loss = None if loss is None else _nan_if_none(loss)
                if loss is not None:
                    me.eval_loss[r[0]] = loss
                me.evaluations.append(
                    {
                        "epoch": r[1], "step": r[0], "eval_loss": loss, "train_accuracy": r[3], "test_accuracy": r[4],
                        "cumulative_measurements": r[6], "wall_seconds": walls[i],
                    }
                )
            final_loss = me.evaluations[-1]["eval_loss"] if me.evaluations else None
            last = states.get(rows[-1][0]) if rows else None
            if last is not None and isinstance(last.get("epoch"), int):
                epochs = last["epoch"]
        me.result = RunResult(
            run=rid, kind="contrastive" if contrastive else "jacobian", status=status, device=device, family=family,
            model=model, serial=serial, firmware=firmware, task=task, method=method, seed=seed,
            created_at=_utc(created), updated_at=_utc(updated), steps=n, epochs=epochs, train_accuracy=train,
            test_accuracy=test, final_loss=final_loss, loss_unit=loss_unit, measurements=rows[-1][6] if rows else 0,
            wall_seconds=wall, mode=mode,
            digital_ceiling=None if contrastive or ceiling is None else float(ceiling),
            calibration_id=None if calibration is None else int(calibration),
        )
        if with_steps:
            me.steps = {
                "step": np.array([r[0] for r in rows], dtype=np.int64),
                "epoch": np.array([r[1] for r in rows], dtype=np.int64),
                "loss": np.array([_nan_if_none(r[2]) for r in rows], dtype=np.float64),
                "train_accuracy": np.array([_nan_if_none(r[3]) for r in rows], dtype=np.float64),
                "test_accuracy": np.array([_nan_if_none(r[4]) for r in rows], dtype=np.float64),
                "measurements": np.array([r[5] for r in rows], dtype=np.int64),
                "cumulative_measurements": np.array([r[6] for r in rows], dtype=np.int64),
                "wall_seconds": np.array([r[7] for r in rows], dtype=np.float64),
            }
        return me


def _trainer_states(db: sqlite3.Connection, run_id: int, steps: List[int]) -> Dict[int, Dict[str, Any]]:
    """The checkpoints (``TrainerState`` JSON) of these steps that decode as one."""
    out: Dict[int, Dict[str, Any]] = {}
    wanted = sorted(set(steps))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for step, text in db.execute(
            f"SELECT step, checkpoint FROM step WHERE run_id = ? AND step IN ({marks})", [run_id, *chunk]
        ):
            state = _json_object(text)
            if state is not None and all(k in state for k in _TRAINER_STATE_KEYS):
                out[step] = state
    return out


class Run:
    """One run read from a store: ``result`` (a :class:`RunResult`, whose fields are also
    attributes of the run: ``run.status``, ``run.final_loss``...), ``settings``,
    ``evaluations``, ``steps``, ``parameters`` and ``measurements()``.

    The steps are those committed when :meth:`Store.run` was called; ``parameters`` and
    ``measurements()`` read the same steps (call ``store.run(n)`` again for a live run's newer ones).
    """

    def __init__(self, store: Store, result: RunResult, loaded: _Loaded) -> None:
        self._store = store
        self.result = result
        self._loaded = loaded
        self._parameters: Optional[np.ndarray] = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        result = self.__dict__.get("result")
        if result is not None and name in RunResult.__dataclass_fields__:
            return getattr(result, name)
        raise AttributeError(f"'Run' object has no attribute {name!r}")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(RunResult.__dataclass_fields__))

    def __repr__(self) -> str:
        r = self.result
        return f"<pnnlab.Run {r.run}: {r.kind} {r.method} on {r.device}, task {r.task}, {r.status}, {r.steps} steps>"

    @property
    def loss_suffix(self) -> str:
        """The unit suffix of this run's loss columns (``nats``, ``uA2`` or ``V2``)."""
        return LOSS_UNIT_SUFFIX.get(self.result.loss_unit, self.result.loss_unit.replace("^", ""))

    @property
    def settings(self) -> Any:
        """The stored plan (task, method, seed, device, trainer or schedule, twin) with
        snake_case keys, as ``pnnlab show --json`` prints it under ``settings``."""
        if self._loaded.config is None:
            return self._loaded.config_text
        return _snake_cased(self._loaded.config)

    @property
    def steps(self):
        """One row per committed step (DataFrame, or a numpy structured array without pandas).

        Columns: ``step``, ``epoch``, ``batch_loss_<unit>`` (the step's batch before its update;
        NaN for contrastive records), ``eval_loss_<unit>`` (the whole training split where
        evaluated, else NaN), ``train_accuracy`` and ``test_accuracy`` (0…1, NaN where not
        evaluated), ``measurements`` (input vectors this step), ``cumulative_measurements``,
        ``wall_seconds`` (this step). ``<unit>`` is :attr:`loss_suffix`.
        """
        s = self._loaded.steps
        unit = self.loss_suffix
        n = len(s["step"])
        contrastive = self.result.kind == "contrastive"
        eval_loss = np.array([self._loaded.eval_loss.get(int(k), math.nan) for k in s["step"]], dtype=np.float64)
        batch = np.full(n, math.nan) if contrastive else s["loss"]
        columns = [
            ("step", s["step"]),
            ("epoch", s["epoch"]),
            (f"batch_loss_{unit}", batch),
            (f"eval_loss_{unit}", eval_loss),
            ("train_accuracy", s["train_accuracy"]),
            ("test_accuracy", s["test_accuracy"]),
            ("measurements", s["measurements"]),
            ("cumulative_measurements", s["cumulative_measurements"]),
            ("wall_seconds", s["wall_seconds"]),
        ]
        return self._table(columns, n)

    @property
    def evaluations(self):
        """One row per evaluated epoch (Jacobian runs) or recorded period (contrastive runs),
        as ``pnnlab show --json``'s ``evaluations``; ``eval_loss`` carries its unit in the
        name (``eval_loss_nats``...) and ``wall_seconds`` is the run's wall time up to that step.
        Contrastive runs have ``period`` and ``task_errors_V2`` (one column per task in numpy,
        an array per row in pandas) instead of ``epoch``.
        """
        rows = self._loaded.evaluations
        unit = self.loss_suffix
        n = len(rows)
        contrastive = self.result.kind == "contrastive"
        index = "period" if contrastive else "epoch"
        columns: List[Tuple[str, Any]] = [
            (index, np.array([r[index] for r in rows], dtype=np.int64)),
            ("step", np.array([r["step"] for r in rows], dtype=np.int64)),
            (f"eval_loss_{unit}", np.array([_nan_if_none(r["eval_loss"]) for r in rows], dtype=np.float64)),
            ("train_accuracy", np.array([_nan_if_none(r["train_accuracy"]) for r in rows], dtype=np.float64)),
            ("test_accuracy", np.array([_nan_if_none(r["test_accuracy"]) for r in rows], dtype=np.float64)),
        ]
        if contrastive:
            width = max((len(r["task_errors_v2"]) for r in rows), default=0)
            errors = np.full((n, width), math.nan)
            for i, r in enumerate(rows):
                errors[i, : len(r["task_errors_v2"])] = r["task_errors_v2"]
            columns.append(("task_errors_V2", errors))
        columns += [
            ("cumulative_measurements", np.array([r["cumulative_measurements"] for r in rows], dtype=np.int64)),
            ("wall_seconds", np.array([r["wall_seconds"] for r in rows], dtype=np.float64)),
        ]
        return self._table(columns, n)

    def evaluations_json(self) -> List[Dict[str, Any]]:
        """The evaluations exactly as ``pnnlab show --json`` prints them (plain dicts)."""
        out = []
        for r in self._loaded.evaluations:
            d = dict(r)
            for k in ("eval_loss", "train_accuracy", "test_accuracy", "wall_seconds"):
                d[k] = _json_number(d[k])
            if "task_errors_v2" in d:
                d["task_errors_v2"] = [_json_number(e) for e in d["task_errors_v2"]]
            out.append(d)
        return out

    def _table(self, columns: List[Tuple[str, np.ndarray]], n: int):
        pd = self._store._pd
        if pd is not None:
            data = {}
            for name, values in columns:
                data[name] = list(values) if values.ndim == 2 else values
            return pd.DataFrame(data, columns=[c[0] for c in columns])
        dtype = [(name, values.dtype) if values.ndim == 1 else (name, values.dtype, (values.shape[1],)) for name, values in columns]
        table = np.zeros(n, dtype=dtype)
        for name, values in columns:
            table[name] = values
        return table

    @property
    def parameters(self) -> np.ndarray:
        """Parameter targets after each step, ``steps × P`` float64, in the device's parameter
        unit (crossbar: conductance, µS; CLLN: gate voltage, V). Row ``i`` is step ``steps[i]``."""
        if self._parameters is None:
            path = self._store.path
            with self._store._read() as db:
                blobs = db.execute(
                    "SELECT step, parameters FROM step WHERE run_id = ? AND step <= ? ORDER BY step",
                    (self.result.run, self._loaded.last_step),
                ).fetchall()
            arrays = [_floats(b, f"the parameters of step {k}", path) for k, b in blobs]
            widths = {a.size for a in arrays}
            if len(widths) > 1:
                raise CorruptStoreError(f"store {path} is damaged: run {self.result.run} has steps with {sorted(widths)} parameters")
            width = widths.pop() if widths else 0
            matrix = np.empty((len(arrays), width), dtype=np.float64)
            for i, a in enumerate(arrays):
                matrix[i] = a
            matrix.flags.writeable = False
            self._parameters = matrix
        return self._parameters

    def measurements(self, kind: Union[None, str, Iterable[str]] = None) -> List[Measurement]:
        """The stored measurement blocks (see :class:`Measurement`), in step order, only those
        of ``kind`` (a name or several) when given. Each ``values`` is a ``rows × cols`` array."""
        path = self._store.path
        sql = 'SELECT step, kind, rows, cols, "values" FROM measurement WHERE run_id = ? AND step <= ?'
        args: List[Any] = [self.result.run, self._loaded.last_step]
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            sql += " AND kind IN (" + ", ".join("?" * len(kinds)) + ")"
            args += kinds
        with self._store._read() as db:
            rows = db.execute(sql + " ORDER BY step, id", args).fetchall()
        out = []
        for step, k, nrows, ncols, blob in rows:
            values = _floats(blob, f"a {k} block", path)
            if nrows < 0 or ncols < 0 or values.size != nrows * ncols:
                raise CorruptStoreError(f"store {path} is damaged: a {k} block holds {values.size} values for {nrows}×{ncols}")
            out.append(Measurement(step=step, kind=k, values=values.reshape(nrows, ncols)))
        return out


def open_store(path: Union[str, os.PathLike] = "pnnlab.sqlite", *, pandas: Optional[bool] = None) -> Store:
    """Opens the pnnlab store at ``path`` read-only (never creating, migrating or locking it).

    Raises :class:`StoreNotFoundError`, :class:`NotAStoreError`, :class:`NewerSchemaError`
    (written by a newer pnnlab) or :class:`CorruptStoreError`, all :class:`StoreError`.
    ``pandas``: tables as DataFrames (default: when pandas is installed) or numpy arrays.
    """
    return Store(path, pandas=pandas)
