"""One device of a ``pnnlab serve`` process (:class:`RemoteDevice`) and the conversions between
its gRPC messages and numpy arrays; :mod:`pnnlab.remote` is the entry point."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence

import numpy as np

from .errors import PnnlabError

try:
    import grpc

    from .v1 import pnnlab_pb2 as pb
except ImportError as error:  # pragma: no cover - only without the dependency
    grpc = None
    _import_error = error  # noqa: F841 (reported by pnnlab.connect)


if TYPE_CHECKING:
    from .remote import RemoteServer


class RemoteError(PnnlabError):
    """A call to ``pnnlab serve`` failed; ``code`` is the gRPC status name (e.g. ``FAILED_PRECONDITION``)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class LeaseHeldError(RemoteError):
    """Another client holds the device's write lease (the message says who, and since when)."""


def _matrix(array: Any) -> "pb.Matrix":
    a = np.ascontiguousarray(array, dtype="<f8")
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D array (rows × channels), got shape {a.shape}")
    return pb.Matrix(rows=a.shape[0], cols=a.shape[1], data=a.tobytes())


def _probe_results(batch: "pb.ProbeResults") -> Iterator[Dict[str, Any]]:
    """The results packed in one ``ProbeResults`` message: one ``frombuffer`` for all of them,
    each probe's outputs a view into it."""
    rows = np.asarray(batch.rows, dtype=np.int64)
    cols = int(batch.cols)
    if not (len(batch.ids) == len(rows) == len(batch.measurement_counts)) or len(batch.data) != int(rows.sum()) * cols * 8:
        raise RemoteError(f"malformed reply: a batch of {len(batch.ids)} probe results in {len(batch.data)} bytes")
    values = np.frombuffer(batch.data, dtype="<f8")
    start = 0
    for k, n in enumerate(rows.tolist()):
        yield {
            "id": batch.ids[k],
            "outputs": values[start : start + n * cols].reshape(n, cols),
            "measurements": batch.measurement_counts[k],
        }
        start += n * cols


def _array(m: "pb.Matrix") -> np.ndarray:
    if len(m.data) != m.rows * m.cols * 8:
        raise RemoteError(f"malformed reply: {m.rows} × {m.cols} values in {len(m.data)} bytes")
    return np.frombuffer(m.data, dtype="<f8").reshape(m.rows, m.cols)


@dataclass(frozen=True)
class Channels:
    """A bank of input or output channels: ``count`` channels in ``[lower, upper]`` ``unit``."""

    count: int
    lower: float
    upper: float
    resolution: float
    unit: str


@dataclass(frozen=True)
class Parameters:
    """The trainable parameters θ: per-parameter safe range and resolution, one unit."""

    lower: np.ndarray
    upper: np.ndarray
    resolution: np.ndarray
    unit: str
    #: ``(rows, cols)`` of a differential crossbar (index = (row·cols + col)·2 + (0 for G+, 1 for G−)), else None.
    crossbar: Optional[tuple]

    @property
    def count(self) -> int:
        return len(self.lower)


@dataclass(frozen=True)
class Descriptor:
    """Everything needed to drive a device safely (pnnlab's SubstrateDescriptor)."""

    family: str
    model: str
    serial: str
    firmware: str
    parameters: Parameters
    inputs: Channels
    outputs: Channels
    capabilities: List[str]
    max_batch: int


def _channels(c: "pb.ChannelSpace") -> Channels:
    return Channels(int(c.count), c.lower, c.upper, c.resolution, c.unit)


def _descriptor(d: "pb.DeviceDescriptor") -> Descriptor:
    p = d.parameters
    crossbar = None
    if p.WhichOneof("naming") == "differential_crossbar":
        crossbar = (p.differential_crossbar.rows, p.differential_crossbar.cols)
    return Descriptor(
        family=d.identity.family,
        model=d.identity.model,
        serial=d.identity.serial,
        firmware=d.identity.firmware,
        parameters=Parameters(np.array(p.lower), np.array(p.upper), np.array(p.resolution), p.unit, crossbar),
        inputs=_channels(d.inputs),
        outputs=_channels(d.outputs),
        capabilities=list(d.capabilities),
        max_batch=int(d.max_batch),
    )


def _error(error: "grpc.RpcError", what: str) -> RemoteError:
    code = error.code().name if error.code() is not None else ""
    message = error.details() or str(error)
    if code == "UNAVAILABLE":
        return RemoteError(f"cannot reach pnnlab serve at {what}: {message}", code)
    cls = LeaseHeldError if code == "FAILED_PRECONDITION" else RemoteError
    return cls(f"{what}: {message}", code)


class RemoteDevice:
    """One served device. Reads (``descriptor``, ``read_parameters``, ``measure``) need no
    lease; ``set_parameters`` and ``safe_state`` take the write lease for the call unless
    one is held (``with device.lease(): ...``)."""

    def __init__(self, server: "RemoteServer", name: str) -> None:
        self._server = server
        self.name = name
        self._lease_call = None
        self._lease_id = ""
        reply = server._call(server._devices.Describe, pb.DescribeRequest(device=name), name)
        self.descriptor = _descriptor(reply.descriptor)

    @property
    def input_count(self) -> int:
        return self.descriptor.inputs.count

    @property
    def output_count(self) -> int:
        return self.descriptor.outputs.count

    def measure(self, inputs: Any, clamp: bool = False) -> np.ndarray:
        """Outputs (rows × output channels, in ``descriptor.outputs.unit``) for each input row."""
        policy = pb.SAFETY_POLICY_CLAMP if clamp else pb.SAFETY_POLICY_REJECT
        request = pb.MeasureRequest(device=self.name, inputs=_matrix(inputs), policy=policy)
        return _array(self._server._call(self._server._devices.Measure, request, self.name).outputs)

    def read_parameters(self) -> np.ndarray:
        """θ as the device reads it back (a measurement), in ``descriptor.parameters.unit``."""
        reply = self._server._call(self._server._devices.ReadParameters, pb.ReadParametersRequest(device=self.name), self.name)
        return np.array(reply.values)

    def set_parameters(self, theta: Any, clamp: bool = False) -> np.ndarray:
        """Program every parameter; returns the read-back. Values outside the safe range are
        refused (or clamped with ``clamp=True``) by the server."""
        targets = np.ascontiguousarray(theta, dtype=float).ravel()
        policy = pb.SAFETY_POLICY_CLAMP if clamp else pb.SAFETY_POLICY_REJECT
        with self._leased():
            request = pb.SetParametersRequest(
                device=self.name, lease_id=self._lease_id, targets=targets.tolist(), policy=policy
            )
            return np.array(self._server._call(self._server._devices.SetParameters, request, self.name).values)

    def safe_state(self) -> None:
        """Put the device in its safe state (inputs grounded, nothing clamped or pulsing)."""
        with self._leased():
            request = pb.SafeStateRequest(device=self.name, lease_id=self._lease_id)
            self._server._call(self._server._devices.EnterSafeState, request, self.name)

    @contextlib.contextmanager
    def lease(self, holder: Optional[str] = None) -> Iterator["RemoteDevice"]:
        """Hold the write lease for the block; another writer gets :class:`LeaseHeldError`."""
        self.acquire(holder)
        try:
            yield self
        finally:
            self.release()

    def acquire(self, holder: Optional[str] = None) -> None:
        """Take the write lease (held until :meth:`release` or the connection closes)."""
        if self._lease_call is not None:
            return
        holder = holder or f"{os.environ.get('USER', 'someone')} (python pid {os.getpid()})"
        call = self._server._devices.AcquireLease(
            pb.AcquireLeaseRequest(device=self.name, holder=holder), metadata=self._server._metadata
        )
        try:
            granted = next(call)
        except grpc.RpcError as error:
            raise _error(error, f"{self._server.target}/{self.name}") from None
        except StopIteration:
            raise RemoteError(f"{self.name}: the server ended the lease call without granting it") from None
        self._lease_call = call
        self._lease_id = granted.lease_id

    def release(self) -> None:
        """Give the write lease back."""
        if self._lease_call is None:
            return
        try:
            request = pb.ReleaseLeaseRequest(device=self.name, lease_id=self._lease_id)
            self._server._call(self._server._devices.ReleaseLease, request, self.name)
        finally:
            self._lease_call.cancel()
            self._lease_call = None
            self._lease_id = ""

    @contextlib.contextmanager
    def _leased(self) -> Iterator[None]:
        if self._lease_call is not None:
            yield
            return
        with self.lease():
            yield

    def stream(self, probes: Sequence[Dict[str, Any]], clamp: bool = False) -> Iterator[Dict[str, Any]]:
        """Run probes (dicts with ``inputs``, optional ``changes`` = [(index, value), ...],
        ``repeats``, ``id``) and yield ``{"id", "outputs", "measurements"}`` as each is measured."""
        messages = []
        shared: List["pb.Matrix"] = []
        last: Any = None
        for i, p in enumerate(probes):
            changes = [pb.ParameterChange(index=int(k), value=float(v)) for k, v in p.get("changes", [])]
            x = p["inputs"]
            # Consecutive probes on the same batch (a finite-difference Jacobian) send it once.
            if last is None or not (x is last or np.array_equal(x, last)):
                shared.append(_matrix(x))
                last = x
            messages.append(
                pb.Probe(id=int(p.get("id", i)), changes=changes, shared_inputs=len(shared), repeats=int(p.get("repeats", 1)))
            )
        policy = pb.SAFETY_POLICY_CLAMP if clamp else pb.SAFETY_POLICY_REJECT
        with self._leased():
            request = pb.StreamProbesRequest(
                device=self.name, lease_id=self._lease_id, probes=messages, policy=policy, shared_inputs=shared
            )
            call = self._server._devices.StreamProbes(request, metadata=self._server._metadata)
            try:
                for batch in call:
                    yield from _probe_results(batch)
            except grpc.RpcError as error:
                raise _error(error, f"{self._server.target}/{self.name}") from None
            finally:
                call.cancel()

    # Optional capabilities (``descriptor.capabilities`` lists them): contrastive devices.

    def apply_inputs(self, inputs: Any) -> None:
        """Hold ``inputs`` (one value per input channel) on a clampable device's input nodes."""
        values = np.ascontiguousarray(inputs, dtype=float).ravel().tolist()
        with self._leased():
            request = pb.ApplyInputsRequest(device=self.name, lease_id=self._lease_id, inputs=values)
            self._server._call(self._server._devices.ApplyInputs, request, self.name)

    def set_clamp(self, mode: str, targets: Any, eta: float) -> None:
        """Impose an output boundary condition: ``mode`` free, clamped or both; one target
        per output (``descriptor.outputs.unit``); nudge amplitude ``eta`` (|eta| <= 1)."""
        modes = {"free": pb.CLAMP_MODE_FREE, "clamped": pb.CLAMP_MODE_CLAMPED, "both": pb.CLAMP_MODE_BOTH}
        if mode not in modes:
            raise ValueError(f"mode must be one of {', '.join(modes)}, not {mode!r}")
        values = np.ascontiguousarray(targets, dtype=float).ravel().tolist()
        with self._leased():
            request = pb.SetClampRequest(device=self.name, lease_id=self._lease_id, mode=modes[mode], targets=values, eta=eta)
            self._server._call(self._server._devices.SetClamp, request, self.name)

    def learn(self, seconds: float) -> None:
        """Switch a self-learning device's own learning rule on for ``seconds``."""
        with self._leased():
            request = pb.LearnRequest(device=self.name, lease_id=self._lease_id, seconds=seconds)
            self._server._call(self._server._devices.Learn, request, self.name)

    def read_nodes(self, side: str = "free") -> np.ndarray:
        """Every node voltage (V) of the ``free`` or ``clamped`` network."""
        request = pb.ReadNodesRequest(device=self.name, side=_side(side))
        return np.array(self._server._call(self._server._devices.ReadNodes, request, self.name).values)

    def calibrate(
        self, options: Sequence[str] = (), progress: Optional[Any] = None
    ) -> Dict[str, Any]:
        """Run the family's calibration procedure on the server, next to the device (the
        server checks every value and leaves the device safe). ``options`` are the
        procedure's own words (``["--trials", "24"]``); ``progress(done, total, what)`` is
        called as it goes. Returns ``{"profile": dict, "truth": dict or None}``: the profile
        as ``pnnlab calibrate --out`` writes it and, for a twin or an emulated board, its
        errors against the hidden truth (key with units -> value). Not stored anywhere: save
        ``profile`` yourself, or run ``pnnlab calibrate remote://…`` to store it."""
        with self._leased():
            request = pb.CalibrateRequest(device=self.name, lease_id=self._lease_id, option_words=list(options))
            call = self._server._devices.Calibrate(request, metadata=self._server._metadata)
            last = None
            try:
                for update in call:
                    if update.profile_json:
                        last = update
                    elif progress is not None:
                        progress(update.done, update.total, update.what)
            except grpc.RpcError as error:
                raise _error(error, f"{self._server.target}/{self.name}") from None
        if last is None:
            raise RemoteError(f"{self.name}: the server ended the calibration without a profile")
        truth = {f.key: f.value for f in last.truth} if last.truth_known else None
        return {"profile": json.loads(last.profile_json), "truth": truth}

    def __repr__(self) -> str:
        d = self.descriptor
        return f"<RemoteDevice {self.name}: {d.family}/{d.model} {d.serial} at {self._server.target}>"



def _side(side: str) -> int:
    sides = {"free": pb.NETWORK_SIDE_FREE, "clamped": pb.NETWORK_SIDE_CLAMPED}
    if side not in sides:
        raise ValueError(f"side must be 'free' or 'clamped', not {side!r}")
    return sides[side]
