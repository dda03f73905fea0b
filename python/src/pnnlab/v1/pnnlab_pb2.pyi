from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SafetyPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SAFETY_POLICY_REJECT: _ClassVar[SafetyPolicy]
    SAFETY_POLICY_CLAMP: _ClassVar[SafetyPolicy]

class ClampMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAMP_MODE_FREE: _ClassVar[ClampMode]
    CLAMP_MODE_CLAMPED: _ClassVar[ClampMode]
    CLAMP_MODE_BOTH: _ClassVar[ClampMode]

class NetworkSide(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NETWORK_SIDE_FREE: _ClassVar[NetworkSide]
    NETWORK_SIDE_CLAMPED: _ClassVar[NetworkSide]
SAFETY_POLICY_REJECT: SafetyPolicy
SAFETY_POLICY_CLAMP: SafetyPolicy
CLAMP_MODE_FREE: ClampMode
CLAMP_MODE_CLAMPED: ClampMode
CLAMP_MODE_BOTH: ClampMode
NETWORK_SIDE_FREE: NetworkSide
NETWORK_SIDE_CLAMPED: NetworkSide

class Matrix(_message.Message):
    __slots__ = ("rows", "cols", "data")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    COLS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    rows: int
    cols: int
    data: bytes
    def __init__(self, rows: _Optional[int] = ..., cols: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class DeviceIdentity(_message.Message):
    __slots__ = ("family", "model", "serial", "firmware")
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    family: str
    model: str
    serial: str
    firmware: str
    def __init__(self, family: _Optional[str] = ..., model: _Optional[str] = ..., serial: _Optional[str] = ..., firmware: _Optional[str] = ...) -> None: ...

class ParameterSpace(_message.Message):
    __slots__ = ("lower", "upper", "resolution", "unit", "indexed_prefix", "differential_crossbar")
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    INDEXED_PREFIX_FIELD_NUMBER: _ClassVar[int]
    DIFFERENTIAL_CROSSBAR_FIELD_NUMBER: _ClassVar[int]
    lower: _containers.RepeatedScalarFieldContainer[float]
    upper: _containers.RepeatedScalarFieldContainer[float]
    resolution: _containers.RepeatedScalarFieldContainer[float]
    unit: str
    indexed_prefix: str
    differential_crossbar: CrossbarGeometry
    def __init__(self, lower: _Optional[_Iterable[float]] = ..., upper: _Optional[_Iterable[float]] = ..., resolution: _Optional[_Iterable[float]] = ..., unit: _Optional[str] = ..., indexed_prefix: _Optional[str] = ..., differential_crossbar: _Optional[_Union[CrossbarGeometry, _Mapping]] = ...) -> None: ...

class CrossbarGeometry(_message.Message):
    __slots__ = ("rows", "cols")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    COLS_FIELD_NUMBER: _ClassVar[int]
    rows: int
    cols: int
    def __init__(self, rows: _Optional[int] = ..., cols: _Optional[int] = ...) -> None: ...

class ChannelSpace(_message.Message):
    __slots__ = ("count", "lower", "upper", "resolution", "unit")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    count: int
    lower: float
    upper: float
    resolution: float
    unit: str
    def __init__(self, count: _Optional[int] = ..., lower: _Optional[float] = ..., upper: _Optional[float] = ..., resolution: _Optional[float] = ..., unit: _Optional[str] = ...) -> None: ...

class DeviceDescriptor(_message.Message):
    __slots__ = ("identity", "parameters", "inputs", "outputs", "capability_bits", "capabilities", "max_batch")
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_BITS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    identity: DeviceIdentity
    parameters: ParameterSpace
    inputs: ChannelSpace
    outputs: ChannelSpace
    capability_bits: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    max_batch: int
    def __init__(self, identity: _Optional[_Union[DeviceIdentity, _Mapping]] = ..., parameters: _Optional[_Union[ParameterSpace, _Mapping]] = ..., inputs: _Optional[_Union[ChannelSpace, _Mapping]] = ..., outputs: _Optional[_Union[ChannelSpace, _Mapping]] = ..., capability_bits: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ..., max_batch: _Optional[int] = ...) -> None: ...

class DeviceSummary(_message.Message):
    __slots__ = ("name", "identity", "source", "leased")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    LEASED_FIELD_NUMBER: _ClassVar[int]
    name: str
    identity: DeviceIdentity
    source: str
    leased: bool
    def __init__(self, name: _Optional[str] = ..., identity: _Optional[_Union[DeviceIdentity, _Mapping]] = ..., source: _Optional[str] = ..., leased: _Optional[bool] = ...) -> None: ...

class ListDevicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDevicesResponse(_message.Message):
    __slots__ = ("devices",)
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[DeviceSummary]
    def __init__(self, devices: _Optional[_Iterable[_Union[DeviceSummary, _Mapping]]] = ...) -> None: ...

class DescribeRequest(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: str
    def __init__(self, device: _Optional[str] = ...) -> None: ...

class DescribeResponse(_message.Message):
    __slots__ = ("summary", "descriptor", "topology_json", "max_learn_seconds", "element_strains")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTOR_FIELD_NUMBER: _ClassVar[int]
    TOPOLOGY_JSON_FIELD_NUMBER: _ClassVar[int]
    MAX_LEARN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ELEMENT_STRAINS_FIELD_NUMBER: _ClassVar[int]
    summary: DeviceSummary
    descriptor: DeviceDescriptor
    topology_json: str
    max_learn_seconds: float
    element_strains: bool
    def __init__(self, summary: _Optional[_Union[DeviceSummary, _Mapping]] = ..., descriptor: _Optional[_Union[DeviceDescriptor, _Mapping]] = ..., topology_json: _Optional[str] = ..., max_learn_seconds: _Optional[float] = ..., element_strains: _Optional[bool] = ...) -> None: ...

class AcquireLeaseRequest(_message.Message):
    __slots__ = ("device", "holder")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    device: str
    holder: str
    def __init__(self, device: _Optional[str] = ..., holder: _Optional[str] = ...) -> None: ...

class LeaseGranted(_message.Message):
    __slots__ = ("device", "lease_id")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ...) -> None: ...

class ReleaseLeaseRequest(_message.Message):
    __slots__ = ("device", "lease_id")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ...) -> None: ...

class ReleaseLeaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetParametersRequest(_message.Message):
    __slots__ = ("device", "lease_id", "targets", "policy")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    targets: _containers.RepeatedScalarFieldContainer[float]
    policy: SafetyPolicy
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ..., targets: _Optional[_Iterable[float]] = ..., policy: _Optional[_Union[SafetyPolicy, str]] = ...) -> None: ...

class ReadParametersRequest(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: str
    def __init__(self, device: _Optional[str] = ...) -> None: ...

class ParameterValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class MeasureRequest(_message.Message):
    __slots__ = ("device", "inputs", "policy")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    device: str
    inputs: Matrix
    policy: SafetyPolicy
    def __init__(self, device: _Optional[str] = ..., inputs: _Optional[_Union[Matrix, _Mapping]] = ..., policy: _Optional[_Union[SafetyPolicy, str]] = ...) -> None: ...

class MeasureResponse(_message.Message):
    __slots__ = ("outputs",)
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    outputs: Matrix
    def __init__(self, outputs: _Optional[_Union[Matrix, _Mapping]] = ...) -> None: ...

class ParameterChange(_message.Message):
    __slots__ = ("index", "value")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    index: int
    value: float
    def __init__(self, index: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...

class Probe(_message.Message):
    __slots__ = ("id", "changes", "inputs", "repeats", "shared_inputs")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    REPEATS_FIELD_NUMBER: _ClassVar[int]
    SHARED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    id: int
    changes: _containers.RepeatedCompositeFieldContainer[ParameterChange]
    inputs: Matrix
    repeats: int
    shared_inputs: int
    def __init__(self, id: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[ParameterChange, _Mapping]]] = ..., inputs: _Optional[_Union[Matrix, _Mapping]] = ..., repeats: _Optional[int] = ..., shared_inputs: _Optional[int] = ...) -> None: ...

class StreamProbesRequest(_message.Message):
    __slots__ = ("device", "lease_id", "probes", "policy", "shared_inputs")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SHARED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    probes: _containers.RepeatedCompositeFieldContainer[Probe]
    policy: SafetyPolicy
    shared_inputs: _containers.RepeatedCompositeFieldContainer[Matrix]
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ..., probes: _Optional[_Iterable[_Union[Probe, _Mapping]]] = ..., policy: _Optional[_Union[SafetyPolicy, str]] = ..., shared_inputs: _Optional[_Iterable[_Union[Matrix, _Mapping]]] = ...) -> None: ...

class ProbeResults(_message.Message):
    __slots__ = ("ids", "rows", "measurement_counts", "cols", "data")
    IDS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    MEASUREMENT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    COLS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    rows: _containers.RepeatedScalarFieldContainer[int]
    measurement_counts: _containers.RepeatedScalarFieldContainer[int]
    cols: int
    data: bytes
    def __init__(self, ids: _Optional[_Iterable[int]] = ..., rows: _Optional[_Iterable[int]] = ..., measurement_counts: _Optional[_Iterable[int]] = ..., cols: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class SafeStateRequest(_message.Message):
    __slots__ = ("device", "lease_id")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ...) -> None: ...

class SafeStateResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Done(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ApplyInputsRequest(_message.Message):
    __slots__ = ("device", "lease_id", "inputs")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    inputs: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ..., inputs: _Optional[_Iterable[float]] = ...) -> None: ...

class SetClampRequest(_message.Message):
    __slots__ = ("device", "lease_id", "mode", "targets", "eta")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    mode: ClampMode
    targets: _containers.RepeatedScalarFieldContainer[float]
    eta: float
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ..., mode: _Optional[_Union[ClampMode, str]] = ..., targets: _Optional[_Iterable[float]] = ..., eta: _Optional[float] = ...) -> None: ...

class LearnRequest(_message.Message):
    __slots__ = ("device", "lease_id", "seconds")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    seconds: float
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ..., seconds: _Optional[float] = ...) -> None: ...

class ReadNodesRequest(_message.Message):
    __slots__ = ("device", "side")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    device: str
    side: NetworkSide
    def __init__(self, device: _Optional[str] = ..., side: _Optional[_Union[NetworkSide, str]] = ...) -> None: ...

class CalibrateRequest(_message.Message):
    __slots__ = ("device", "lease_id", "option_words")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    OPTION_WORDS_FIELD_NUMBER: _ClassVar[int]
    device: str
    lease_id: str
    option_words: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, device: _Optional[str] = ..., lease_id: _Optional[str] = ..., option_words: _Optional[_Iterable[str]] = ...) -> None: ...

class CalibrationFigure(_message.Message):
    __slots__ = ("key", "label", "value", "display")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_FIELD_NUMBER: _ClassVar[int]
    key: str
    label: str
    value: float
    display: str
    def __init__(self, key: _Optional[str] = ..., label: _Optional[str] = ..., value: _Optional[float] = ..., display: _Optional[str] = ...) -> None: ...

class CalibrateUpdate(_message.Message):
    __slots__ = ("done", "total", "what", "profile_json", "truth_known", "truth")
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    PROFILE_JSON_FIELD_NUMBER: _ClassVar[int]
    TRUTH_KNOWN_FIELD_NUMBER: _ClassVar[int]
    TRUTH_FIELD_NUMBER: _ClassVar[int]
    done: int
    total: int
    what: str
    profile_json: str
    truth_known: bool
    truth: _containers.RepeatedCompositeFieldContainer[CalibrationFigure]
    def __init__(self, done: _Optional[int] = ..., total: _Optional[int] = ..., what: _Optional[str] = ..., profile_json: _Optional[str] = ..., truth_known: _Optional[bool] = ..., truth: _Optional[_Iterable[_Union[CalibrationFigure, _Mapping]]] = ...) -> None: ...

class RunSummary(_message.Message):
    __slots__ = ("id", "device", "identity", "task", "method", "seed", "status", "steps", "last_loss", "last_train_accuracy", "last_test_accuracy", "total_measurements", "created_at", "updated_at", "digital_ceiling")
    ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    LAST_LOSS_FIELD_NUMBER: _ClassVar[int]
    LAST_TRAIN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    LAST_TEST_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MEASUREMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DIGITAL_CEILING_FIELD_NUMBER: _ClassVar[int]
    id: int
    device: str
    identity: DeviceIdentity
    task: str
    method: str
    seed: int
    status: str
    steps: int
    last_loss: float
    last_train_accuracy: float
    last_test_accuracy: float
    total_measurements: int
    created_at: float
    updated_at: float
    digital_ceiling: float
    def __init__(self, id: _Optional[int] = ..., device: _Optional[str] = ..., identity: _Optional[_Union[DeviceIdentity, _Mapping]] = ..., task: _Optional[str] = ..., method: _Optional[str] = ..., seed: _Optional[int] = ..., status: _Optional[str] = ..., steps: _Optional[int] = ..., last_loss: _Optional[float] = ..., last_train_accuracy: _Optional[float] = ..., last_test_accuracy: _Optional[float] = ..., total_measurements: _Optional[int] = ..., created_at: _Optional[float] = ..., updated_at: _Optional[float] = ..., digital_ceiling: _Optional[float] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[RunSummary]
    def __init__(self, runs: _Optional[_Iterable[_Union[RunSummary, _Mapping]]] = ...) -> None: ...

class ShowRunRequest(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: int
    def __init__(self, run: _Optional[int] = ...) -> None: ...

class Step(_message.Message):
    __slots__ = ("run", "step", "epoch", "loss", "train_accuracy", "test_accuracy", "measurements", "cumulative_measurements", "wall_seconds", "parameters")
    RUN_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TEST_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    MEASUREMENTS_FIELD_NUMBER: _ClassVar[int]
    CUMULATIVE_MEASUREMENTS_FIELD_NUMBER: _ClassVar[int]
    WALL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    run: int
    step: int
    epoch: int
    loss: float
    train_accuracy: float
    test_accuracy: float
    measurements: int
    cumulative_measurements: int
    wall_seconds: float
    parameters: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, run: _Optional[int] = ..., step: _Optional[int] = ..., epoch: _Optional[int] = ..., loss: _Optional[float] = ..., train_accuracy: _Optional[float] = ..., test_accuracy: _Optional[float] = ..., measurements: _Optional[int] = ..., cumulative_measurements: _Optional[int] = ..., wall_seconds: _Optional[float] = ..., parameters: _Optional[_Iterable[float]] = ...) -> None: ...

class ShowRunResponse(_message.Message):
    __slots__ = ("summary", "config_json", "steps")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    summary: RunSummary
    config_json: str
    steps: _containers.RepeatedCompositeFieldContainer[Step]
    def __init__(self, summary: _Optional[_Union[RunSummary, _Mapping]] = ..., config_json: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[Step, _Mapping]]] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ("run", "from_step")
    RUN_FIELD_NUMBER: _ClassVar[int]
    FROM_STEP_FIELD_NUMBER: _ClassVar[int]
    run: int
    from_step: int
    def __init__(self, run: _Optional[int] = ..., from_step: _Optional[int] = ...) -> None: ...

class StartRunRequest(_message.Message):
    __slots__ = ("device", "task", "method", "epochs", "seed", "config_toml", "jacobian_refresh", "holder")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_TOML_FIELD_NUMBER: _ClassVar[int]
    JACOBIAN_REFRESH_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    device: str
    task: str
    method: str
    epochs: int
    seed: int
    config_toml: str
    jacobian_refresh: int
    holder: str
    def __init__(self, device: _Optional[str] = ..., task: _Optional[str] = ..., method: _Optional[str] = ..., epochs: _Optional[int] = ..., seed: _Optional[int] = ..., config_toml: _Optional[str] = ..., jacobian_refresh: _Optional[int] = ..., holder: _Optional[str] = ...) -> None: ...

class RunReply(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: RunSummary
    def __init__(self, run: _Optional[_Union[RunSummary, _Mapping]] = ...) -> None: ...

class PauseRunRequest(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: int
    def __init__(self, run: _Optional[int] = ...) -> None: ...

class ResumeRunRequest(_message.Message):
    __slots__ = ("run", "epochs")
    RUN_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    run: int
    epochs: int
    def __init__(self, run: _Optional[int] = ..., epochs: _Optional[int] = ...) -> None: ...
