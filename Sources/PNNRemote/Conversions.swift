import Foundation
import PNNCore
import PNNStore

// Wire forms of pnnlab's types (Proto/pnnlab/v1/pnnlab.proto) and back.

extension Pnnlab_V1_Matrix {
    /// A matrix as row-major float64, little-endian bytes.
    init(_ matrix: Matrix) {
        self.init()
        rows = UInt32(matrix.rows)
        cols = UInt32(matrix.cols)
        data = matrix.storage.withUnsafeBytes { Data($0) }
    }

    /// The matrix, after checking that the bytes hold exactly rows × cols values.
    func matrix(_ what: String) throws(RemoteError) -> Matrix {
        let count = Int(rows) * Int(cols)
        guard data.count == count * MemoryLayout<Double>.size else {
            throw .malformed("\(what): \(rows) × \(cols) values need \(count * 8) bytes, got \(data.count)")
        }
        let storage = [Double](unsafeUninitializedCapacity: count) { buffer, initialised in
            _ = data.copyBytes(to: buffer)
            initialised = count
        }
        return Matrix(rows: Int(rows), cols: Int(cols), storage: storage)
    }
}

extension Pnnlab_V1_DeviceIdentity {
    init(_ identity: DeviceIdentity) {
        self.init()
        family = identity.family
        model = identity.model
        serial = identity.serial
        firmware = identity.firmware
    }

    var identity: DeviceIdentity { DeviceIdentity(family: family, model: model, serial: serial, firmware: firmware) }
}

extension Pnnlab_V1_ChannelSpace {
    init(_ space: ChannelSpace) {
        self.init()
        count = UInt32(space.count)
        lower = space.lower
        upper = space.upper
        resolution = space.resolution
        unit = space.unit.symbol
    }

    func space(_ what: String) throws(RemoteError) -> ChannelSpace {
        guard let unit = PhysicalUnit(rawValue: unit) else { throw .malformed("\(what) unit '\(self.unit)' is unknown") }
        return ChannelSpace(count: Int(count), lower: lower, upper: upper, resolution: resolution, unit: unit)
    }
}

extension Pnnlab_V1_DeviceDescriptor {
    init(_ d: SubstrateDescriptor) {
        self.init()
        identity = .init(d.identity)
        var space = Pnnlab_V1_ParameterSpace()
        space.lower = d.parameters.lower
        space.upper = d.parameters.upper
        space.resolution = d.parameters.resolution
        space.unit = d.parameters.unit.symbol
        switch d.parameters.naming {
        case .indexed(let prefix): space.indexedPrefix = prefix
        case .differentialCrossbar(let rows, let cols):
            var geometry = Pnnlab_V1_CrossbarGeometry()
            geometry.rows = UInt32(rows)
            geometry.cols = UInt32(cols)
            space.differentialCrossbar = geometry
        }
        parameters = space
        inputs = .init(d.inputs)
        outputs = .init(d.outputs)
        capabilityBits = d.capabilities.rawValue
        capabilities = d.capabilities.names
        maxBatch = UInt32(d.maxBatch)
    }

    /// The descriptor, after checking that its arrays agree.
    func descriptor() throws(RemoteError) -> SubstrateDescriptor {
        let p = parameters
        guard p.lower.count == p.upper.count, p.lower.count == p.resolution.count else {
            throw .malformed("parameter ranges of unequal lengths")
        }
        guard let unit = PhysicalUnit(rawValue: p.unit) else { throw .malformed("parameter unit '\(p.unit)' is unknown") }
        let naming: ParameterNaming
        switch p.naming {
        case .differentialCrossbar(let g): naming = .differentialCrossbar(rows: Int(g.rows), cols: Int(g.cols))
        case .indexedPrefix(let prefix): naming = .indexed(prefix: prefix)
        case nil: naming = .indexed(prefix: "θ")
        }
        return SubstrateDescriptor(
            identity: identity.identity,
            parameters: ParameterSpace(
                lower: p.lower, upper: p.upper, resolution: p.resolution, unit: unit, naming: naming),
            inputs: try inputs.space("input"), outputs: try outputs.space("output"),
            capabilities: Capabilities(rawValue: capabilityBits), maxBatch: Int(maxBatch))
    }
}

extension Pnnlab_V1_SafetyPolicy {
    init(_ policy: SafetyPolicy) { self = policy == .clamp ? .clamp : .reject }
    var policy: SafetyPolicy { self == .clamp ? .clamp : .reject }
}

extension Pnnlab_V1_Probe {
    init(_ probe: Probe) {
        self.init()
        id = Int64(probe.id)
        changes = probe.changes.map { change in
            var c = Pnnlab_V1_ParameterChange()
            c.index = UInt32(change.index)
            c.value = change.value
            return c
        }
        inputs = .init(probe.inputs)
        repeats = UInt32(probe.repeats)
    }

    /// The probe; its inputs are its own or, when `sharedInputs` is k ≥ 1, `shared[k − 1]`.
    func probe(shared: [Matrix] = []) throws(RemoteError) -> Probe {
        let batch: Matrix
        if sharedInputs > 0 {
            guard Int(sharedInputs) <= shared.count else {
                throw .malformed("probe \(id) refers to shared input batch \(sharedInputs) of \(shared.count)")
            }
            batch = shared[Int(sharedInputs) - 1]
        } else {
            batch = try inputs.matrix("probe \(id) inputs")
        }
        return Probe(
            id: Int(id), changes: changes.map { ParameterChange(index: Int($0.index), value: $0.value) }, inputs: batch,
            repeats: Int(repeats))
    }
}

extension Pnnlab_V1_StreamProbesRequest {
    /// Puts `probes` in the request, each run of consecutive probes measuring the same batch
    /// (a finite-difference Jacobian) sending that batch once, in `sharedInputs`.
    mutating func setProbes(_ probes: [Probe]) {
        var last: Matrix?
        var shared: [Pnnlab_V1_Matrix] = []
        self.probes = probes.map { probe in
            var p = Pnnlab_V1_Probe()
            p.id = Int64(probe.id)
            p.changes = probe.changes.map { change in
                var c = Pnnlab_V1_ParameterChange()
                c.index = UInt32(change.index)
                c.value = change.value
                return c
            }
            p.repeats = UInt32(probe.repeats)
            if last != probe.inputs {
                shared.append(.init(probe.inputs))
                last = probe.inputs
            }
            p.sharedInputs = UInt32(shared.count)
            return p
        }
        sharedInputs = shared
    }

    /// The probes, their shared input batches decoded once.
    func decodedProbes() throws(RemoteError) -> [Probe] {
        var shared: [Matrix] = []
        shared.reserveCapacity(sharedInputs.count)
        for (k, m) in sharedInputs.enumerated() { shared.append(try m.matrix("shared input batch \(k + 1)")) }
        var out: [Probe] = []
        out.reserveCapacity(probes.count)
        for probe in probes { out.append(try probe.probe(shared: shared)) }
        return out
    }
}

extension Pnnlab_V1_ProbeResults {
    /// Consecutive results packed into one message: ids, row counts and measurement counts
    /// side by side, every output row in one float64 little-endian byte block.
    init(_ results: [ProbeResult]) {
        self.init()
        ids.reserveCapacity(results.count)
        rows.reserveCapacity(results.count)
        measurementCounts.reserveCapacity(results.count)
        cols = UInt32(results.first?.outputs.cols ?? 0)
        var bytes = 0
        for r in results { bytes += r.outputs.storage.count * MemoryLayout<Double>.size }
        var data = Data(count: bytes)
        data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            var offset = 0
            for r in results {
                r.outputs.storage.withUnsafeBytes { source in
                    raw.baseAddress!.advanced(by: offset).copyMemory(from: source.baseAddress!, byteCount: source.count)
                    offset += source.count
                }
            }
        }
        for r in results {
            ids.append(Int64(r.id))
            rows.append(UInt32(r.outputs.rows))
            measurementCounts.append(UInt32(r.measurementCount))
        }
        self.data = data
    }

    /// The results, after checking that the counts agree with the bytes.
    func results() throws(RemoteError) -> [ProbeResult] {
        guard ids.count == rows.count, ids.count == measurementCounts.count else {
            throw .malformed(
                "a probe batch lists \(ids.count) ids, \(rows.count) row counts, \(measurementCounts.count) measurement counts")
        }
        let c = Int(cols)
        let total = rows.reduce(0) { $0 + Int($1) } * c
        guard data.count == total * MemoryLayout<Double>.size else {
            throw .malformed("a probe batch of \(total) values came in \(data.count) bytes")
        }
        var out: [ProbeResult] = []
        out.reserveCapacity(ids.count)
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            for k in ids.indices {
                let count = Int(rows[k]) * c
                let storage = [Double](unsafeUninitializedCapacity: count) { buffer, initialised in
                    if count > 0 {
                        UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
                            from: raw.baseAddress!.advanced(by: offset), byteCount: count * MemoryLayout<Double>.size)
                    }
                    initialised = count
                }
                offset += count * MemoryLayout<Double>.size
                out.append(
                    ProbeResult(
                        id: Int(ids[k]), outputs: Matrix(rows: Int(rows[k]), cols: c, storage: storage),
                        measurementCount: Int(measurementCounts[k])))
            }
        }
        return out
    }
}

extension Pnnlab_V1_ClampMode {
    init(_ mode: ClampMode) {
        switch mode {
        case .free: self = .free
        case .clamped: self = .clamped
        case .both: self = .both
        }
    }

    func mode() throws(RemoteError) -> ClampMode {
        switch self {
        case .free: .free
        case .clamped: .clamped
        case .both: .both
        case .UNRECOGNIZED(let v): throw .malformed("clamp mode \(v) is unknown")
        }
    }
}

extension Pnnlab_V1_NetworkSide {
    init(_ side: NetworkSide) { self = side == .free ? .free : .clamped }
    var side: NetworkSide { self == .clamped ? .clamped : .free }
}

extension Pnnlab_V1_RunSummary {
    init(_ s: RunSummary) {
        self.init()
        id = s.run.id ?? 0
        device = s.run.deviceName
        identity = .init(s.run.identity)
        task = s.run.task
        method = s.run.method
        seed = s.run.seed
        status = s.run.status.rawValue
        steps = UInt32(s.stepCount)
        if let v = s.lastLoss { lastLoss = v }
        if let v = s.lastTrainAccuracy { lastTrainAccuracy = v }
        if let v = s.lastTestAccuracy { lastTestAccuracy = v }
        totalMeasurements = UInt64(s.totalMeasurements)
        createdAt = s.run.createdAt.timeIntervalSince1970
        updatedAt = s.run.updatedAt.timeIntervalSince1970
        if let v = s.run.digitalCeiling { digitalCeiling = v }
    }
}

extension Pnnlab_V1_Step {
    init(_ s: StepRecord) {
        self.init()
        run = s.runID
        step = UInt32(s.step)
        epoch = UInt32(s.epoch)
        loss = s.loss
        if let v = s.trainAccuracy { trainAccuracy = v }
        if let v = s.testAccuracy { testAccuracy = v }
        measurements = UInt64(s.measurements)
        cumulativeMeasurements = UInt64(s.cumulativeMeasurements)
        wallSeconds = s.wallSeconds
        parameters = s.parameters
    }
}
