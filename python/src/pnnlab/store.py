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
import fcntl
import math
import os
import sqlite3
import time
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional, Union


from .errors import (
    CorruptStoreError,
    NewerSchemaError,
    NotAStoreError,
    RunNotFoundError,
    StoreError,
    StoreNotFoundError,
)


from ._records import (  # re-exported: Measurement
    APPLICATION_ID,
    KNOWN_MIGRATIONS,
    _TABLES,
    _pandas,
    _utc,
    _nan_if_none,
    _json_object,
    RunResult,
    Device,
    CalibrationProfile,
    Measurement,
)
from ._run import (  # re-exported: Run
    _run_columns,
    _Loaded,
    _trainer_states,
    Run,
)


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


def open_store(path: Union[str, os.PathLike] = "pnnlab.sqlite", *, pandas: Optional[bool] = None) -> Store:
    """Opens the pnnlab store at ``path`` read-only (never creating, migrating or locking it).

    Raises :class:`StoreNotFoundError`, :class:`NotAStoreError`, :class:`NewerSchemaError`
    (written by a newer pnnlab) or :class:`CorruptStoreError`, all :class:`StoreError`.
    ``pandas``: tables as DataFrames (default: when pandas is installed) or numpy arrays.
    """
    return Store(path, pandas=pandas)
