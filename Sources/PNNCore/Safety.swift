/// What to do with a value outside a device's safe range.
public enum SafetyPolicy: String, Sendable, Codable {
    /// Refuse the whole request with a `SafetyViolation` (the default).
    case reject
    /// Move the value to the nearest bound; only when the caller explicitly asks.
    case clamp
}

/// A request that would have sent a device something outside its declared safe range.
/// Raised on the host before any byte or call reaches the device.
public enum SafetyViolation: Error, Equatable, CustomStringConvertible {
    case parameterOutOfRange(name: String, value: Double, lower: Double, upper: Double, unit: String)
    case inputOutOfRange(row: Int, channel: Int, value: Double, lower: Double, upper: Double, unit: String)
    case notFinite(what: String)
    case wrongParameterCount(expected: Int, got: Int)
    case wrongInputWidth(expected: Int, got: Int)
    case parameterIndexOutOfRange(index: Int, count: Int)

    public var description: String {
        switch self {
        case .parameterOutOfRange(let name, let value, let lower, let upper, let unit):
            return "refused: parameter \(name) = \(value) \(unit) is outside its safe range [\(lower), \(upper)] \(unit)"
        case .inputOutOfRange(let row, let channel, let value, let lower, let upper, let unit):
            return
                "refused: input \(channel) of vector \(row) = \(value) \(unit) is outside the safe range [\(lower), \(upper)] \(unit)"
        case .notFinite(let what):
            return "refused: \(what) is not a finite number"
        case .wrongParameterCount(let expected, let got):
            return "refused: device has \(expected) parameters, request gave \(got)"
        case .wrongInputWidth(let expected, let got):
            return "refused: device has \(expected) input channels, request gave \(got)"
        case .parameterIndexOutOfRange(let index, let count):
            return "refused: parameter index \(index) does not exist (device has \(count))"
        }
    }
}

/// Host-side validation of every value against a descriptor. Pure; used by the checked
/// `Substrate` entry points and by drivers before encoding a frame.
public struct SafetyGuard: Sendable {
    public let descriptor: SubstrateDescriptor

    public init(_ descriptor: SubstrateDescriptor) { self.descriptor = descriptor }

    /// Validate a full parameter vector; returns it (clamped if `policy == .clamp`).
    public func checkParameters(_ values: [Double], policy: SafetyPolicy) throws(SafetyViolation) -> [Double] {
        let space = descriptor.parameters
        guard values.count == space.count else {
            throw .wrongParameterCount(expected: space.count, got: values.count)
        }
        var out = values
        for i in values.indices {
            out[i] = try checkParameter(index: i, value: values[i], policy: policy)
        }
        return out
    }

    /// Validate one parameter value.
    public func checkParameter(index: Int, value: Double, policy: SafetyPolicy) throws(SafetyViolation) -> Double {
        let space = descriptor.parameters
        guard index >= 0, index < space.count else {
            throw .parameterIndexOutOfRange(index: index, count: space.count)
        }
        guard value.isFinite else { throw .notFinite(what: "parameter \(space.name(of: index))") }
        let lo = space.lower[index]
        let hi = space.upper[index]
        if value >= lo && value <= hi { return value }
        if policy == .clamp { return min(max(value, lo), hi) }
        throw .parameterOutOfRange(name: space.name(of: index), value: value, lower: lo, upper: hi, unit: space.unit.symbol)
    }

    /// Validate an input batch (rows = vectors); returns it (clamped if asked).
    public func checkInputs(_ inputs: Matrix, policy: SafetyPolicy) throws(SafetyViolation) -> Matrix {
        let channels = descriptor.inputs
        guard inputs.cols == channels.count else {
            throw .wrongInputWidth(expected: channels.count, got: inputs.cols)
        }
        var out = inputs
        for r in 0..<inputs.rows {
            for c in 0..<inputs.cols {
                let v = inputs[r, c]
                guard v.isFinite else { throw .notFinite(what: "input \(c) of vector \(r)") }
                if v >= channels.lower && v <= channels.upper { continue }
                if policy == .clamp {
                    out[r, c] = min(max(v, channels.lower), channels.upper)
                } else {
                    throw .inputOutOfRange(
                        row: r, channel: c, value: v, lower: channels.lower, upper: channels.upper,
                        unit: channels.unit.symbol)
                }
            }
        }
        return out
    }

    /// Validate a probe: its parameter changes and its inputs.
    public func checkProbe(_ probe: Probe, policy: SafetyPolicy) throws(SafetyViolation) -> Probe {
        var out = probe
        for k in probe.changes.indices {
            out.changes[k].value = try checkParameter(
                index: probe.changes[k].index, value: probe.changes[k].value, policy: policy)
        }
        out.inputs = try checkInputs(probe.inputs, policy: policy)
        return out
    }
}

extension Substrate {
    /// Program parameters after checking every value against its safe range.
    /// Returns the read-back (programmed values are never exactly the targets).
    public func setParameters(_ targets: [Double], policy: SafetyPolicy = .reject) async throws -> [Double] {
        let safe = try SafetyGuard(descriptor).checkParameters(targets, policy: policy)
        return try await uncheckedProgram(safe)
    }

    /// Measure a batch after checking every input; batches larger than the device's
    /// maximum are split transparently.
    public func measure(_ inputs: Matrix, policy: SafetyPolicy = .reject) async throws -> Matrix {
        let safe = try SafetyGuard(descriptor).checkInputs(inputs, policy: policy)
        let maxBatch = max(1, descriptor.maxBatch)
        if safe.rows <= maxBatch { return try await uncheckedMeasure(safe) }
        var parts: [Matrix] = []
        var start = 0
        while start < safe.rows {
            let end = min(start + maxBatch, safe.rows)
            parts.append(try await uncheckedMeasure(safe.rowSlice(start..<end)))
            start = end
        }
        return Matrix.vstack(parts)
    }

    /// Stream probes after checking all of them; nothing is sent if any one is unsafe.
    public func stream(_ probes: [Probe], policy: SafetyPolicy = .reject) throws -> AsyncThrowingStream<ProbeResult, any Error> {
        let guardian = SafetyGuard(descriptor)
        var safe: [Probe] = []
        safe.reserveCapacity(probes.count)
        for probe in probes { safe.append(try guardian.checkProbe(probe, policy: policy)) }
        return uncheckedStream(safe)
    }
}
