/// A temporary change of one parameter for the duration of a probe.
public struct ParameterChange: Sendable, Codable, Equatable {
    /// Index into the descriptor's parameter space.
    public var index: Int
    /// Absolute target value, in the parameter space's unit.
    public var value: Double

    public init(index: Int, value: Double) {
        self.index = index
        self.value = value
    }
}

/// One unit of streamed work: set some parameters, measure a batch of inputs (averaging
/// `repeats` reads), restore the parameters. Finite-difference Jacobians are built from
/// hundreds of these queued at once.
public struct Probe: Sendable {
    /// Caller-chosen identifier echoed in the result.
    public var id: Int
    /// Parameters held at these values while the inputs are measured, then restored.
    public var changes: [ParameterChange]
    /// Input batch, one row per input vector, in the input channels' unit.
    public var inputs: Matrix
    /// Reads per input vector, averaged to beat read noise (≥ 1).
    public var repeats: Int

    public init(id: Int, changes: [ParameterChange] = [], inputs: Matrix, repeats: Int = 1) {
        self.id = id
        self.changes = changes
        self.inputs = inputs
        self.repeats = max(1, repeats)
    }

    /// Input vectors applied to the device by this probe (the unit of "measurements").
    public var measurementCount: Int { inputs.rows * repeats }
}

/// What came back for one `Probe`.
public struct ProbeResult: Sendable {
    /// The probe's identifier.
    public var id: Int
    /// Outputs averaged over the probe's repeats: one row per input vector.
    public var outputs: Matrix
    /// Input vectors applied (rows × repeats).
    public var measurementCount: Int

    public init(id: Int, outputs: Matrix, measurementCount: Int) {
        self.id = id
        self.outputs = outputs
        self.measurementCount = measurementCount
    }
}

/// Anything with trainable physical parameters θ, inputs x and measured outputs y:
/// an in-process twin or a driver for a board over a link. Trainers and calibration code
/// cannot tell the two apart.
///
/// The requirements named `unchecked…` are the raw device operations. Callers use the
/// checked forms from the extension (`setParameters`, `measure`, `stream`), which validate
/// every value against the descriptor's safe ranges before a single one reaches the device.
public protocol Substrate: AnyObject, Sendable {
    /// Identity, parameter space, channels and capabilities. Never changes while attached.
    var descriptor: SubstrateDescriptor { get }

    /// Program all parameters (values already validated) and return the read-back.
    func uncheckedProgram(_ targets: [Double]) async throws -> [Double]

    /// Measure the current parameter values (a measurement: never exactly the target).
    func readParameters() async throws -> [Double]

    /// Apply each input row (already validated) and return one output row per input.
    func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix

    /// Run probes (already validated) in order, yielding each result as soon as it exists.
    func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error>

    /// Put the device in its safe state (inputs grounded, nothing clamped or pulsing).
    func enterSafeState() async throws
}

/// Device-level failures, phrased for the person at the bench.
public enum SubstrateError: Error, Equatable, CustomStringConvertible {
    /// The device lacks a capability the caller needs.
    case missingCapability(String, device: String)
    /// The device lacks a capability that `purpose` (a method, a procedure) needs.
    case missingCapabilityFor(String, device: String, purpose: String)
    /// The device reported a fault.
    case deviceFault(String)
    /// A probe or measurement returned a shape other than the one requested.
    case malformedReply(String)

    public var description: String {
        switch self {
        case .missingCapability(let cap, let device):
            return "device \(device) has no '\(cap)' capability"
        case .missingCapabilityFor(let cap, let device, let purpose):
            return "\(purpose) needs the '\(cap)' capability, which device \(device) does not have"
        case .deviceFault(let message):
            return "device fault: \(message)"
        case .malformedReply(let message):
            return "malformed reply from device: \(message)"
        }
    }
}
