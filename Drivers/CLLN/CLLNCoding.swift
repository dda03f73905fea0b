import PNNCore
import PNNLink
import PNNWire

/// Binary encodings of the CLLN command set's structured payloads (docs/protocol.md §14):
/// topology pages, datasets, schedules and schedule records. Decoders check every count
/// and code, so a damaged payload is refused rather than misread.
public enum CLLNCoding {
    // MARK: Topology

    /// The topology bytes read page by page with `topology`.
    public static func encode(_ t: NetworkTopology) -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(clamping: t.nodeCount))
        w.u16(UInt16(clamping: t.edges.count))
        for e in t.edges {
            w.u16(UInt16(clamping: e.a))
            w.u16(UInt16(clamping: e.b))
            w.u8(e.trainable ? 1 : 0)
        }
        w.u16(UInt16(clamping: t.inputNodes.count))
        for (node, role) in zip(t.inputNodes, t.inputRoles) {
            w.u16(UInt16(clamping: node))
            let (code, k): (UInt8, Int) =
                switch role {
                case .variable(let k): (0, k)
                case .inverted(let k): (1, k)
                case .positiveRail: (2, 0)
                case .negativeRail: (3, 0)
                }
            w.u8(code)
            w.u8(UInt8(clamping: k))
        }
        w.u16(UInt16(clamping: t.outputs.count))
        for o in t.outputs {
            w.u16(UInt16(clamping: o.plus))
            w.u16(o.minus.map { UInt16(clamping: $0) } ?? 0xFFFF)
        }
        return w.bytes
    }

    /// Parses topology bytes; node indices must be in range.
    public static func decodeTopology(_ bytes: [UInt8]) throws(PayloadError) -> NetworkTopology {
        var r = PayloadReader(bytes)
        let nodes = Int(try r.u16("nodes"))
        func node(_ field: String) throws(PayloadError) -> Int {
            let n = Int(try r.u16(field))
            guard n < nodes else { throw .invalidValue(field: field, reason: "node \(n) of a \(nodes)-node network") }
            return n
        }
        var edges: [NetworkTopology.Edge] = []
        for _ in 0..<Int(try r.u16("edges")) {
            let a = try node("a"), b = try node("b")
            edges.append(NetworkTopology.Edge(a: a, b: b, trainable: try r.u8("trainable") != 0))
        }
        var inputNodes: [Int] = []
        var roles: [NetworkTopology.InputRole] = []
        for _ in 0..<Int(try r.u16("inputs")) {
            inputNodes.append(try node("input"))
            let code = try r.u8("role"), k = Int(try r.u8("k"))
            switch code {
            case 0: roles.append(.variable(k))
            case 1: roles.append(.inverted(k))
            case 2: roles.append(.positiveRail)
            case 3: roles.append(.negativeRail)
            default: throw .invalidValue(field: "role", reason: "\(code) is not 0…3")
            }
        }
        var outputs: [NetworkTopology.Output] = []
        for _ in 0..<Int(try r.u16("outputs")) {
            let plus = try node("plus")
            let minus = Int(try r.u16("minus"))
            guard minus == 0xFFFF || minus < nodes else {
                throw .invalidValue(field: "minus", reason: "node \(minus) of a \(nodes)-node network")
            }
            outputs.append(NetworkTopology.Output(plus: plus, minus: minus == 0xFFFF ? nil : minus))
        }
        try r.expectEnd()
        return NetworkTopology(nodeCount: nodes, edges: edges, inputNodes: inputNodes, inputRoles: roles, outputs: outputs)
    }

    // MARK: Dataset

    /// The dataset bytes sent in chunks with `loadDataset`.
    public static func encode(_ d: ContrastiveDataset, inputs: Int, outputs: Int) -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(clamping: inputs))
        w.u16(UInt16(clamping: outputs))
        w.u16(UInt16(clamping: d.tasks.count))
        for task in d.tasks {
            w.u8(task.classification ? 1 : 0)
            let name = Array(task.name.utf8.prefix(255))
            w.u8(UInt8(name.count))
            w.raw(name)
            w.u32(UInt32(clamping: task.points.count))
            for p in task.points {
                w.f64s(p.inputs)
                w.f64s(p.labels)
            }
        }
        return w.bytes
    }

    /// Parses dataset bytes for a board with `inputs` sources and `outputs` outputs.
    public static func decodeDataset(_ bytes: [UInt8], inputs: Int, outputs: Int) throws(PayloadError)
        -> ContrastiveDataset
    {
        var r = PayloadReader(bytes)
        let i = Int(try r.u16("inputs")), o = Int(try r.u16("outputs"))
        guard i == inputs, o == outputs else {
            throw .invalidValue(field: "inputs", reason: "dataset for \(i) inputs/\(o) outputs, board has \(inputs)/\(outputs)")
        }
        var tasks: [ContrastiveTask] = []
        for _ in 0..<Int(try r.u16("tasks")) {
            let classification = try r.u8("classification") != 0
            let nameBytes = try r.raw(Int(try r.u8("nameLength")), field: "name")
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw .invalidUTF8(field: "name") }
            let count = Int(try r.u32("points"))
            guard count * 8 * (i + o) <= r.remaining else {
                throw .truncated(field: "points", needed: count * 8 * (i + o), available: r.remaining)
            }
            var points: [ContrastivePoint] = []
            points.reserveCapacity(count)
            for _ in 0..<count {
                points.append(ContrastivePoint(inputs: try r.f64s(i, field: "v"), labels: try r.f64s(o, field: "label")))
            }
            tasks.append(ContrastiveTask(name: name, classification: classification, points: points))
        }
        try r.expectEnd()
        return ContrastiveDataset(tasks: tasks)
    }

    // MARK: Schedule

    /// The `runSchedule` payload (62 bytes).
    public static func encode(_ s: ContrastiveSchedule) -> [UInt8] {
        var w = PayloadWriter()
        let method: UInt8 =
            switch s.method {
            case .coupled: 0
            case .overclamp: 1
            case .ep: 2
            }
        w.u8(method)
        w.u8(s.hinge ? 1 : 0)
        w.f64s([s.eta, s.overclampLevel, s.stepSeconds, s.periodSeconds])
        for n in [s.periods, s.recordEvery, s.recordTail, s.traceEvery, s.startPeriod] { w.u32(UInt32(clamping: n)) }
        w.f64(s.initialR0 ?? 0)
        return w.bytes
    }

    /// Parses a `runSchedule` payload.
    public static func decodeSchedule(_ bytes: [UInt8]) throws(PayloadError) -> ContrastiveSchedule {
        var r = PayloadReader(bytes)
        let code = try r.u8("method")
        let methods: [ContrastiveMethod] = [.coupled, .overclamp, .ep]
        guard Int(code) < methods.count else { throw .invalidValue(field: "method", reason: "\(code) is not 0…2") }
        let hinge = try r.u8("hinge") != 0
        let v = try r.f64s(4, field: "times")
        var n: [Int] = []
        for field in ["periods", "recordEvery", "recordTail", "traceEvery", "startPeriod"] {
            n.append(Int(try r.u32(field)))
        }
        let r0 = try r.f64("r0")
        try r.expectEnd()
        return ContrastiveSchedule(
            method: methods[Int(code)], eta: v[0], overclampLevel: v[1], stepSeconds: v[2], periodSeconds: v[3],
            periods: n[0], hinge: hinge, recordEvery: n[1], recordTail: n[2], traceEvery: n[3], startPeriod: n[4],
            initialR0: r0 == 0 ? nil : r0)
    }

    // MARK: Records

    /// The bytes of one schedule record (split into stream parts when longer than a page).
    public static func encode(_ rec: ScheduleRecord) -> [UInt8] {
        var w = PayloadWriter()
        w.u8(rec.kind.rawValue)
        w.u32(UInt32(clamping: rec.period))
        w.u32(UInt32(bitPattern: Int32(clamping: rec.task)))
        w.f64(rec.time)
        w.f64(rec.r0)
        for n in [rec.steps, rec.skipped] {
            w.u32(UInt32(truncatingIfNeeded: n))
            w.u32(UInt32(truncatingIfNeeded: UInt64(n) >> 32))
        }
        w.u16(UInt16(clamping: rec.gates.count))
        w.f64s(rec.gates)
        w.u16(UInt16(clamping: rec.outputs.count))
        for task in rec.outputs {
            w.u16(UInt16(clamping: task.count))
            w.u16(UInt16(clamping: task.first?.count ?? 0))
            for point in task { w.f64s(point) }
        }
        w.u16(UInt16(clamping: rec.errors.count))
        w.f64s(rec.errors)
        return w.bytes
    }

    /// Parses the bytes of one schedule record.
    public static func decodeRecord(_ bytes: [UInt8]) throws(PayloadError) -> ScheduleRecord {
        var r = PayloadReader(bytes)
        let kindCode = try r.u8("kind")
        guard let kind = ScheduleRecord.Kind(rawValue: kindCode) else {
            throw .invalidValue(field: "kind", reason: "\(kindCode) is not 0…2")
        }
        let period = Int(try r.u32("period"))
        let task = Int(Int32(bitPattern: try r.u32("task")))
        let time = try r.f64("time"), r0 = try r.f64("r0")
        let steps = Int(UInt64(try r.u32("steps")) | UInt64(try r.u32("steps")) << 32)
        let skipped = Int(UInt64(try r.u32("skipped")) | UInt64(try r.u32("skipped")) << 32)
        let gates = try r.f64s(Int(try r.u16("gates")), field: "gates")
        var outputs: [[[Double]]] = []
        for _ in 0..<Int(try r.u16("tasks")) {
            let points = Int(try r.u16("points")), outs = Int(try r.u16("outputs"))
            var rows: [[Double]] = []
            for _ in 0..<points { rows.append(try r.f64s(outs, field: "O")) }
            outputs.append(rows)
        }
        let errors = try r.f64s(Int(try r.u16("errors")), field: "errors")
        try r.expectEnd()
        return ScheduleRecord(
            kind: kind, period: period, task: task, time: time, gates: gates, outputs: outputs, errors: errors, r0: r0,
            steps: steps, skipped: skipped)
    }
}

/// One frame of the record stream (stream 2): a part of a record, or the end of the run.
public enum CLLNStreamFrame: Sendable, Equatable {
    /// Part `part` of `parts` of record number `record`.
    case part(record: UInt32, part: UInt16, parts: UInt16, bytes: [UInt8])
    /// The schedule ended after `records` records.
    case end(records: UInt32, outcome: Outcome, message: String)

    /// How a schedule run ended.
    public enum Outcome: UInt8, Sendable {
        case done = 0
        case aborted = 1
        case failed = 2
    }

    /// Stream frames carrying one record, each at most one page long.
    public static func parts(of record: [UInt8], index: UInt32) -> [CLLNStreamFrame] {
        let page = CLLNCommand.pageBytes
        let count = max(1, (record.count + page - 1) / page)
        return (0..<count).map { k in
            .part(
                record: index, part: UInt16(k), parts: UInt16(count),
                bytes: Array(record[(k * page)..<min(record.count, (k + 1) * page)]))
        }
    }

    /// The stream data bytes (after the stream ID).
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        switch self {
        case .part(let record, let part, let parts, let bytes):
            w.u8(0)
            w.u32(record)
            w.u16(part)
            w.u16(parts)
            w.raw(bytes)
        case .end(let records, let outcome, let message):
            w.u8(1)
            w.u32(records)
            w.u8(outcome.rawValue)
            w.raw(Array(message.utf8))
        }
        return w.bytes
    }

    /// Parses stream data bytes.
    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> CLLNStreamFrame {
        var r = PayloadReader(bytes)
        switch try r.u8("tag") {
        case 0:
            return .part(record: try r.u32("record"), part: try r.u16("part"), parts: try r.u16("parts"), bytes: r.rest())
        case 1:
            let records = try r.u32("records")
            let code = try r.u8("outcome")
            guard let outcome = Outcome(rawValue: code) else {
                throw .invalidValue(field: "outcome", reason: "\(code) is not 0…2")
            }
            guard let message = String(validating: r.rest(), as: UTF8.self) else { throw .invalidUTF8(field: "message") }
            return .end(records: records, outcome: outcome, message: message)
        case let tag:
            throw .invalidValue(field: "tag", reason: "\(tag) is neither 0 (record part) nor 1 (end)")
        }
    }
}
