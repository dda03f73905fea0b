"""One run of a pnnlab store (:class:`Run`): its steps, evaluations, checkpoints and raw
measurement blocks, read lazily from the store's SQLite file."""

from __future__ import annotations

import json
import math
import sqlite3
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import (
    CorruptStoreError,
)


from ._records import (
    LOSS_UNIT_SUFFIX,
    _TRAINER_STATE_KEYS,
    _CONTRASTIVE_CHECKPOINT_KEYS,
    _utc,
    _nan_if_none,
    _json_number,
    _json_object,
    _snake_cased,
    _floats,
    RunResult,
    Measurement,
)

if TYPE_CHECKING:
    from .store import Store


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
