"""pnnlab from Python: read a run store directly and drive the ``pnnlab`` command line.

>>> import pnnlab
>>> store = pnnlab.open_store("pnnlab.sqlite")   # read-only; a live run is not disturbed
>>> store.runs()                                 # as `pnnlab runs --json` (DataFrame with pandas)
>>> for step in store.watch(1): ...              # steps as a live run commits them
>>> run = store.run(1)
>>> run.steps                                    # one row per committed step, units in column names
>>> pnnlab.cli("train", "sim:crossbar", "--task", "xor")   # `pnnlab train ... --json`, parsed
>>> server = pnnlab.connect("127.0.0.1:50515")   # devices and runs of `pnnlab serve` (gRPC)
>>> server.device("crossbar-1").measure(x)       # numpy in, numpy out
"""

from .cli import binary, cli
from .errors import (
    CorruptStoreError,
    NewerSchemaError,
    NotAStoreError,
    PnnlabError,
    RunNotFoundError,
    StoreError,
    StoreNotFoundError,
)
from .remote import LeaseHeldError, RemoteDevice, RemoteError, RemoteServer, connect
from .store import (
    APPLICATION_ID,
    KNOWN_MIGRATIONS,
    CalibrationProfile,
    Device,
    Measurement,
    Run,
    RunResult,
    Store,
    open_store,
)

__version__ = "0.1.0"

__all__ = [
    "APPLICATION_ID",
    "KNOWN_MIGRATIONS",
    "CalibrationProfile",
    "CorruptStoreError",
    "Device",
    "Measurement",
    "NewerSchemaError",
    "NotAStoreError",
    "PnnlabError",
    "Run",
    "RunNotFoundError",
    "RunResult",
    "Store",
    "StoreError",
    "StoreNotFoundError",
    "LeaseHeldError",
    "RemoteDevice",
    "RemoteError",
    "RemoteServer",
    "binary",
    "cli",
    "connect",
    "open_store",
]
