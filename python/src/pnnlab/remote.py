"""Devices and runs of a ``pnnlab serve`` process, over gRPC (Proto/pnnlab/v1/pnnlab.proto).

>>> import numpy as np, pnnlab
>>> server = pnnlab.connect("127.0.0.1:50515")        # or "remote://127.0.0.1:50515"
>>> server.devices()                                   # what it serves (names, identities, leases)
>>> xbar = server.device("crossbar-1")
>>> xbar.descriptor.inputs.upper, xbar.descriptor.parameters.unit
>>> y = xbar.measure(np.full((4, xbar.input_count), 0.05))   # outputs, one row per input row
>>> with xbar.lease():                                 # the write lease (one writer at a time)
...     xbar.set_parameters(theta)                     # returns the read-back
>>> server.runs()                                      # the server's run store
>>> server.run(3)["steps"]                             # DataFrame (numpy without pandas), units in names
>>> for step in server.watch(3): print(step["step"], step["loss"])
>>> run = server.start_run("crossbar-1", task="iris", method="gauss-newton", epochs=3)
>>> server.pause(run["id"]); server.resume(run["id"])  # safe-point pause, as Ctrl-C

Every value is checked against the device's safe ranges on the server: a remote client can
never send what a local one could not. The access token comes from ``token=`` or
``$PNNLAB_TOKEN``; TLS is used when ``ca=`` (or ``$PNNLAB_TLS_CA``) names a PEM file.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, Optional

import numpy as np

from .errors import PnnlabError
from ._records import LOSS_UNIT_SUFFIX, _pandas

try:
    import grpc

    from .v1 import pnnlab_pb2 as pb
    from .v1 import pnnlab_pb2_grpc as pb_grpc
except ImportError as error:  # pragma: no cover - only without the dependency
    grpc = None
    _import_error = error

from ._device import RemoteDevice, _error
from ._device import LeaseHeldError, RemoteError  # re-exported: pnnlab.LeaseHeldError, pnnlab.RemoteError

DEFAULT_PORT = 50515
_MAX_MESSAGE = 256 << 20


class RemoteServer:
    """A connection to one ``pnnlab serve`` process (see :func:`connect`)."""

    def __init__(
        self, target: str, token: Optional[str] = None, ca: Optional[str] = None, pandas: Optional[bool] = None
    ) -> None:
        self._pandas = _pandas(pandas)
        if grpc is None:  # pragma: no cover
            raise PnnlabError(f"pnnlab.connect needs grpcio and protobuf ({_import_error})")
        if target.startswith("remote://"):
            target = target[len("remote://") :].split("/", 1)[0]
        if ":" not in target.rsplit("]", 1)[-1]:
            target = f"{target}:{DEFAULT_PORT}"
        self.target = target
        token = token if token is not None else os.environ.get("PNNLAB_TOKEN") or None
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        options = [
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
            # An 8 MiB stream window and 1 MiB frames (as pnnlab serve offers): a batch of
            # outputs arrives without a window update per 64 KiB.
            ("grpc.http2.lookahead_bytes", 8 << 20),
            ("grpc.http2.max_frame_size", 1 << 20),
        ]
        ca = ca if ca is not None else os.environ.get("PNNLAB_TLS_CA") or None
        if ca:
            with open(ca, "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._devices = pb_grpc.DevicesStub(self._channel)
        self._runs = pb_grpc.RunsStub(self._channel)

    def _call(self, method: Any, request: Any, what: str) -> Any:
        try:
            return method(request, metadata=self._metadata)
        except grpc.RpcError as error:
            raise _error(error, f"{self.target}/{what}" if what else self.target) from None

    def devices(self) -> List[Dict[str, Any]]:
        """Served devices: name, family, model, serial, source, leased."""
        reply = self._call(self._devices.ListDevices, pb.ListDevicesRequest(), "")
        return [
            {
                "name": d.name,
                "family": d.identity.family,
                "model": d.identity.model,
                "serial": d.identity.serial,
                "source": d.source,
                "leased": d.leased,
            }
            for d in reply.devices
        ]

    def device(self, name: str) -> RemoteDevice:
        """The served device called ``name``."""
        return RemoteDevice(self, name)

    def runs(self) -> List[Dict[str, Any]]:
        """The server's runs, newest first (as ``pnnlab runs``)."""
        reply = self._call(self._runs.ListRuns, pb.ListRunsRequest(), "runs")
        return [_run(r) for r in reply.runs]

    def run(self, run: int) -> Dict[str, Any]:
        """One run: its summary, ``config_json`` (JSON text), ``parameters`` (steps × P, in
        the device's parameter unit) and ``steps``: one row per committed step, a pandas
        DataFrame when pandas is installed (a numpy structured array otherwise), with units in
        the column names as :attr:`pnnlab.Run.steps` has them — ``batch_loss_<unit>`` (``nats``,
        ``uA2``, ``V2``), ``train_accuracy``/``test_accuracy`` (0…1, NaN where not evaluated),
        ``wall_seconds``."""
        reply = self._call(self._runs.ShowRun, pb.ShowRunRequest(run=run), f"run {run}")
        out = _run(reply.summary)
        out["config_json"] = reply.config_json
        steps = [_step(s) for s in reply.steps]
        out["loss_unit"] = _loss_suffix(reply.config_json)
        out["steps"] = _steps(steps, out["loss_unit"], self._pandas)
        out["parameters"] = (
            np.array([s["parameters"] for s in steps], dtype=np.float64) if steps else np.zeros((0, 0))
        )
        return out

    def start_run(
        self,
        device: str,
        task: str,
        method: Optional[str] = None,
        epochs: Optional[int] = None,
        seed: Optional[int] = None,
        config: Optional[str] = None,
        jacobian_refresh: Optional[int] = None,
        holder: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Start a training run on served device ``device`` in the server process, as
        ``pnnlab train`` would (``config``: a TOML config file's text, or a path to one).
        Returns the run's summary once it is recorded and training has begun; follow it
        with :meth:`watch`, stop it with :meth:`pause`."""
        if config is not None and "\n" not in config and os.path.isfile(config):
            with open(config, encoding="utf-8") as f:
                config = f.read()
        request = pb.StartRunRequest(
            device=device, task=task, method=method or "", config_toml=config or "",
            holder=holder or f"{os.environ.get('USER', 'someone')} (python pid {os.getpid()})",
        )
        if epochs is not None:
            request.epochs = epochs
        if seed is not None:
            request.seed = seed
        if jacobian_refresh is not None:
            request.jacobian_refresh = jacobian_refresh
        return _run(self._call(self._runs.StartRun, request, device).run)

    def pause(self, run: int) -> Dict[str, Any]:
        """Pause a run the server is training at its next step boundary (device left safe,
        run checkpointed); returns its summary once paused."""
        return _run(self._call(self._runs.PauseRun, pb.PauseRunRequest(run=run), f"run {run}").run)

    def resume(self, run: int, epochs: Optional[int] = None) -> Dict[str, Any]:
        """Continue a paused or interrupted run from its last committed step (on the served
        device it trained on); returns its summary once training has resumed."""
        request = pb.ResumeRunRequest(run=run)
        if epochs is not None:
            request.epochs = epochs
        return _run(self._call(self._runs.ResumeRun, request, f"run {run}").run)

    def watch(self, run: int, from_step: int = 0) -> Iterator[Dict[str, Any]]:
        """Steps of ``run`` as they are committed; ends when the run stops."""
        call = self._runs.WatchRun(pb.WatchRunRequest(run=run, from_step=from_step), metadata=self._metadata)
        try:
            for s in call:
                yield _step(s)
        except grpc.RpcError as error:
            raise _error(error, f"{self.target}/run {run}") from None
        finally:
            call.cancel()

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "RemoteServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _run(r: "pb.RunSummary") -> Dict[str, Any]:
    return {
        "id": r.id,
        "device": r.device,
        "family": r.identity.family,
        "serial": r.identity.serial,
        "task": r.task,
        "method": r.method,
        "seed": r.seed,
        "status": r.status,
        "steps": r.steps,
        "last_loss": r.last_loss if r.HasField("last_loss") else None,
        "last_train_accuracy": r.last_train_accuracy if r.HasField("last_train_accuracy") else None,
        "last_test_accuracy": r.last_test_accuracy if r.HasField("last_test_accuracy") else None,
        "total_measurements": r.total_measurements,
        "digital_ceiling": r.digital_ceiling if r.HasField("digital_ceiling") else None,
    }


def _step(s: "pb.Step") -> Dict[str, Any]:
    return {
        "run": s.run,
        "step": s.step,
        "epoch": s.epoch,
        "loss": s.loss,
        "train_accuracy": s.train_accuracy if s.HasField("train_accuracy") else float("nan"),
        "test_accuracy": s.test_accuracy if s.HasField("test_accuracy") else float("nan"),
        "measurements": s.measurements,
        "cumulative_measurements": s.cumulative_measurements,
        "wall_s": s.wall_seconds,
        "parameters": np.array(s.parameters),
    }


def _loss_suffix(config_json: str) -> str:
    """The loss unit suffix of a run from its recorded plan (as :attr:`pnnlab.Run.loss_suffix`)."""
    try:
        config = json.loads(config_json) if config_json else {}
    except ValueError:
        config = {}
    if not isinstance(config, dict):
        return "nats"
    if config.get("kind") == "contrastive":
        return LOSS_UNIT_SUFFIX["V^2"]
    trainer = config.get("trainer")
    readout = trainer.get("readout") if isinstance(trainer, dict) else None
    return LOSS_UNIT_SUFFIX["uA^2" if readout == "least-squares" else "nats"]


def _steps(steps: List[Dict[str, Any]], unit: str = "nats", pd: Any = None) -> Any:
    """Steps as a DataFrame (``pd`` given) or a numpy structured array; units in the names."""
    columns = [
        ("step", "i8", "step"),
        ("epoch", "i8", "epoch"),
        (f"batch_loss_{unit}", "f8", "loss"),
        ("train_accuracy", "f8", "train_accuracy"),
        ("test_accuracy", "f8", "test_accuracy"),
        ("measurements", "i8", "measurements"),
        ("cumulative_measurements", "i8", "cumulative_measurements"),
        ("wall_seconds", "f8", "wall_s"),
    ]
    table = np.array([tuple(s[key] for _, _, key in columns) for s in steps], dtype=[(n, t) for n, t, _ in columns])
    if pd is not None:
        return pd.DataFrame({name: table[name] for name, _, _ in columns})
    return table


def connect(
    url: str = f"127.0.0.1:{DEFAULT_PORT}", token: Optional[str] = None, ca: Optional[str] = None, *, pandas: Optional[bool] = None
) -> RemoteServer:
    """Connect to ``pnnlab serve`` at ``HOST:PORT`` (or ``remote://HOST:PORT[/NAME]``).

    The connection is made on the first call; ``token`` defaults to ``$PNNLAB_TOKEN`` and
    ``ca`` (a PEM file: use TLS) to ``$PNNLAB_TLS_CA``. ``pandas``: run steps as DataFrames
    (default: when pandas is installed) or numpy structured arrays (``False``)."""
    return RemoteServer(url, token=token, ca=ca, pandas=pandas)
