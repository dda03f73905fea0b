/// A crossbar configuration that describes no physical array (e.g. a window with
/// gMin ≥ gMax, a negative noise level or a dead column that does not exist).
public enum CrossbarConfigError: Error, Equatable, CustomStringConvertible {
    /// `field` holds `value`, which breaks `requirement`.
    case invalid(field: String, value: String, requirement: String)

    public var description: String {
        switch self {
        case .invalid(let field, let value, let requirement):
            return "crossbar configuration: \(field) = \(value) is invalid; \(requirement)"
        }
    }
}

/// A saved crossbar state that cannot be loaded: not a state document, inconsistent
/// shapes, or physically impossible numbers.
public enum CrossbarStateError: Error, Equatable, CustomStringConvertible {
    /// The bytes are not a readable crossbar state document (the decoder's reason).
    case unreadable(String)
    /// A document of another kind or format version.
    case unsupportedFormat(format: String, version: Int)
    /// The embedded configuration is invalid.
    case invalidConfiguration(CrossbarConfigError)
    /// A per-device or per-column array has the wrong length for the declared geometry.
    case lengthMismatch(field: String, expected: Int, got: Int)
    /// A number is NaN or infinite.
    case notFinite(field: String, index: Int)
    /// A number lies outside what the physics allows.
    case outOfRange(field: String, index: Int, value: Double, lower: Double, upper: Double, unit: String)
    /// The state could not be written (e.g. a non-finite number).
    case encodingFailed(String)

    public var description: String {
        switch self {
        case .unreadable(let reason):
            return "not a readable crossbar state document: \(reason)"
        case .unsupportedFormat(let format, let version):
            return "unsupported state document '\(format)' version \(version)"
                + " (expected '\(CrossbarPhysics.stateFormat)' version \(CrossbarPhysics.stateVersion))"
        case .invalidConfiguration(let error):
            return "state document has an invalid configuration: \(error)"
        case .lengthMismatch(let field, let expected, let got):
            return "state field \(field) has \(got) entries; the array geometry needs \(expected)"
        case .notFinite(let field, let index):
            return "state field \(field)[\(index)] is not a finite number"
        case .outOfRange(let field, let index, let value, let lower, let upper, let unit):
            return "state field \(field)[\(index)] = \(value) \(unit) is outside the physical range"
                + " [\(lower), \(upper)] \(unit)"
        case .encodingFailed(let reason):
            return "could not write the crossbar state: \(reason)"
        }
    }
}

/// A request the crossbar twin refused on the device side. Values outside the declared
/// safe range are counted in `CrossbarStatistics.violations`: a correct host never sends
/// one, because `SafetyGuard` rejects it first.
public enum CrossbarTwinError: Error, Equatable, CustomStringConvertible {
    /// A conductance target outside the safe window.
    case parameterRefused(name: String, value: Double, lower: Double, upper: Double)
    /// An input voltage outside the safe read range.
    case inputRefused(vector: Int, channel: Int, value: Double, lower: Double, upper: Double)
    /// A NaN or infinite value.
    case notFinite(what: String)
    /// A full parameter vector of the wrong length.
    case wrongParameterCount(expected: Int, got: Int)
    /// An input batch with the wrong number of channels.
    case wrongInputWidth(expected: Int, got: Int)
    /// A parameter index that names no device.
    case parameterIndexOutOfRange(index: Int, count: Int)
    /// More input vectors in one measurement than the device accepts (not a safety issue).
    case batchTooLarge(got: Int, max: Int)
    /// A negative or non-finite time step (not a safety issue).
    case invalidDuration(Double)
    /// A fault asked for on an ADC column the array does not have (not a safety issue).
    case invalidADCColumn(Int, count: Int)

    /// Whether this refusal is a safety violation (a value outside the declared safe set).
    public var isSafetyViolation: Bool {
        switch self {
        case .batchTooLarge, .invalidDuration, .invalidADCColumn: return false
        default: return true
        }
    }

    public var description: String {
        switch self {
        case .invalidADCColumn(let column, let count):
            return "the crossbar has ADC columns 0…\(count - 1) (2 per output); there is no column \(column) to break"
        case .parameterRefused(let name, let value, let lower, let upper):
            return "crossbar refused: conductance \(name) = \(value) µS is outside the safe window [\(lower), \(upper)] µS"
        case .inputRefused(let vector, let channel, let value, let lower, let upper):
            return "crossbar refused: input \(channel) of vector \(vector) = \(value) V is outside the safe read range"
                + " [\(lower), \(upper)] V"
        case .notFinite(let what):
            return "crossbar refused: \(what) is not a finite number"
        case .wrongParameterCount(let expected, let got):
            return "crossbar refused: it has \(expected) devices, the request programs \(got)"
        case .wrongInputWidth(let expected, let got):
            return "crossbar refused: it has \(expected) input lines, the request drives \(got)"
        case .parameterIndexOutOfRange(let index, let count):
            return "crossbar refused: device index \(index) does not exist (the array has \(count))"
        case .batchTooLarge(let got, let max):
            return "crossbar refused: \(got) input vectors in one measurement, at most \(max) accepted"
        case .invalidDuration(let seconds):
            return "crossbar refused: cannot advance the clock by \(seconds) s"
        }
    }
}
