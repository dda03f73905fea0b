"""Rows of a pnnlab store as Python values: runs, devices, calibration profiles, measurement
blocks, and the small conversions (times, JSON numbers, snake_case keys) the reader shares."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

import numpy as np

from .errors import (
    CorruptStoreError,
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
