import Foundation
import PNNCore

/// The contrastive tasks of seed 002 (appendix B), by CLI name.
public enum ContrastiveTaskName: String, Sendable, Codable, CaseIterable {
    /// Fig. 1E–F: two single-point regression tasks, V2 held at V+/2.
    case twoTask = "two-task"
    /// Fig. 1C: binary classification on a square grid, each class a task (±63 mV).
    case grid
    /// Fig. 5: 8 points on a ring of size ε, one of 8 linear splits (±18 mV).
    case ring
    /// Fig. 2B: the 2+1-edge network's compatible single-point tasks.
    case fig2b
    /// Fig. 2C: as fig2b with β's label at 0.18 V.
    case fig2c
    /// Fig. 3: an incompatible pair (α has two points, β one).
    case fig3
    /// Seed 000: Iris on a clampable network without voltage rails (a spring network): the
    /// Jacobian methods' split and encoding, each class a task, one-hot output labels.
    case iris
}

/// A task with its parameters (`ring` takes ε and a rotation).
public struct ContrastiveTaskSpec: Sendable, Codable, Equatable {
    public var name: ContrastiveTaskName
    /// Ring only: ε in millivolts, 83…417 (see `ContrastiveTasks.ringPoints`).
    public var radiusMillivolts: Double?
    /// Ring only: which linear split, 0…7.
    public var rotation: Int?

    public init(name: ContrastiveTaskName, radiusMillivolts: Double? = nil, rotation: Int? = nil) {
        self.name = name
        self.radiusMillivolts = radiusMillivolts
        self.rotation = rotation
    }
}

/// Why a task cannot be built for a device.
public enum ContrastiveTaskError: Error, Equatable, CustomStringConvertible {
    case radiusOutOfRange(Double)
    case rotationOutOfRange(Int)
    case missingInput(task: String, role: String)
    case nonPhysicalInput(task: String, value: Double)
    case outputCount(task: String, outputs: Int)
    case notAVoltageTask(String)

    public var description: String {
        switch self {
        case .radiusOutOfRange(let r):
            return "ring size ε = \(r) mV must be in (0, 417] mV (the ring must fit between V− and V+)"
        case .rotationOutOfRange(let r):
            return "ring rotation \(r) must be one of 0…7"
        case .missingInput(let task, let role):
            return "task '\(task)' needs an input wired as \(role), which this device does not have"
        case .nonPhysicalInput(let task, let value):
            return "task '\(task)' would put \(value) V on an input; sources must stay within [0, V+]"
        case .outputCount(let task, let outputs):
            return "task '\(task)' needs exactly one output; this device has \(outputs)"
        case .notAVoltageTask(let task):
            return "task '\(task)' is encoded for the device's input range (ContrastiveTasks.iris), not from voltage rails"
        }
    }
}

/// The seed's task data, in data space (V1, V2) with labels, and encoded for a wiring.
public enum ContrastiveTasks {
    public static let vPlus = 0.435
    public static let vMinus = 0.018

    /// One task's points before encoding.
    public struct TaskPoints: Sendable, Equatable {
        public var name: String
        public var classification: Bool
        public var points: [(x: [Double], label: Double)]

        public static func == (a: TaskPoints, b: TaskPoints) -> Bool {
            a.name == b.name && a.classification == b.classification && a.points.count == b.points.count
                && zip(a.points, b.points).allSatisfy { $0.x == $1.x && $0.label == $1.label }
        }
    }

    /// The tasks (α then β) of `spec` in data space.
    public static func points(_ spec: ContrastiveTaskSpec) throws(ContrastiveTaskError) -> [TaskPoints] {
        let mid = vPlus / 2
        switch spec.name {
        case .twoTask:
            return [
                TaskPoints(name: "alpha", classification: false, points: [([vPlus, mid], 0.021)]),
                TaskPoints(name: "beta", classification: false, points: [([vMinus, mid], -0.063)]),
            ]
        case .grid:
            // A 4 × 4 grid over [0.07, 0.38] V², split by the diagonal V1 + V2 = V+ + V− … shifted
            // so no point lies on it: class α (+63 mV) above, β (−63 mV) below.
            let axis = (0..<4).map { 0.07 + Double($0) * 0.1033 }
            var alpha: [(x: [Double], label: Double)] = []
            var beta: [(x: [Double], label: Double)] = []
            for v1 in axis {
                for v2 in axis {
                    if v1 + v2 > vPlus + vMinus + 0.01 {
                        alpha.append(([v1, v2], 0.063))
                    } else {
                        beta.append(([v1, v2], -0.063))
                    }
                }
            }
            return [
                TaskPoints(name: "alpha", classification: true, points: alpha),
                TaskPoints(name: "beta", classification: true, points: beta),
            ]
        case .ring:
            let (alpha, beta) = try ringPoints(
                epsilonMillivolts: spec.radiusMillivolts ?? 417, rotation: spec.rotation ?? 0)
            return [
                TaskPoints(name: "alpha", classification: true, points: alpha.map { ($0, 0.018) }),
                TaskPoints(name: "beta", classification: true, points: beta.map { ($0, -0.018) }),
            ]
        case .fig2b, .fig2c:
            return [
                TaskPoints(name: "alpha", classification: false, points: [([vPlus], 0.31)]),
                TaskPoints(name: "beta", classification: false, points: [([vMinus], spec.name == .fig2b ? 0.14 : 0.18)]),
            ]
        case .fig3:
            return [
                TaskPoints(name: "alpha", classification: false, points: [([vMinus], 0.143), ([vPlus], 0.268)]),
                TaskPoints(name: "beta", classification: false, points: [([vMinus], 0.156)]),
            ]
        case .iris:
            throw .notAVoltageTask(spec.name.rawValue)
        }
    }

    /// Fraction of the output full scale used as the label magnitude L of the Iris task.
    public static let irisLabelFraction = 0.01

    /// Iris for a contrastive run on a device with these channels: the split (seeded, 70/30,
    /// stratified) and the encoding of the Jacobian methods (`PreparedTask` with the default
    /// trainer settings, peak input 0.8 of the input range, padded to the device's lines), so
    /// the digital ceiling of a Jacobian run with the same seed applies. Each class is a task;
    /// a point's labels are +L on its class's output and −L on the others, L =
    /// `irisLabelFraction` × the output full scale. The test split comes back as a held-out set.
    public static func iris(seed: UInt64, descriptor d: SubstrateDescriptor) throws -> (
        dataset: ContrastiveDataset, heldOut: HeldOutSplit
    ) {
        let config = TrainerConfig()
        let prepared = try PreparedTask(.iris, config: config, amplitude: 1, seed: seed)
            .rescaled(amplitude: config.inputAmplitude * d.inputs.upper)
            .fitted(toInputLines: d.inputs.count, device: d.identity.summary)
        let classes = prepared.classCount
        guard d.outputs.count == classes else {
            throw ContrastiveTaskError.outputCount(task: "iris (one output per class, \(classes))", outputs: d.outputs.count)
        }
        let level = irisLabelFraction * max(abs(d.outputs.lower), abs(d.outputs.upper))
        let tasks = (0..<classes).map { c in
            ContrastiveTask(
                name: prepared.train.classNames[c], classification: true,
                points: prepared.train.labels.indices.filter { prepared.train.labels[$0] == c }.map { i in
                    ContrastivePoint(
                        inputs: prepared.trainInputs.row(i), labels: (0..<classes).map { $0 == c ? level : -level })
                })
        }
        return (ContrastiveDataset(tasks: tasks), HeldOutSplit(inputs: prepared.testInputs, classes: prepared.test.labels))
    }

    /// Seed Fig. 5: 8 points equally spaced (angles (k + ½)·π/4) on a circle centred at
    /// ((V+ + V−)/2, (V+ + V−)/2). The seed calls ε a radius but also the diameter of the
    /// data, and ε = 417 mV = V+ − V− only fits inside [V−, V+] as a diameter, so the circle's
    /// radius is ε/2. Rotation r puts the points with angle in [rπ/4, rπ/4 + π) in class α.
    public static func ringPoints(epsilonMillivolts: Double, rotation: Int) throws(ContrastiveTaskError) -> (
        alpha: [[Double]], beta: [[Double]]
    ) {
        guard epsilonMillivolts.isFinite, epsilonMillivolts > 0, epsilonMillivolts <= 417.0001 else {
            throw .radiusOutOfRange(epsilonMillivolts)
        }
        guard (0...7).contains(rotation) else { throw .rotationOutOfRange(rotation) }
        let centre = (vPlus + vMinus) / 2
        let radius = epsilonMillivolts / 2000
        var alpha: [[Double]] = []
        var beta: [[Double]] = []
        for k in 0..<8 {
            let angle = (Double(k) + 0.5) * Double.pi / 4
            let point = [centre + radius * cos(angle), centre + radius * sin(angle)]
            let relative = (Double(k) + 0.5 - Double(rotation) + 8).truncatingRemainder(dividingBy: 8)
            if relative < 4 { alpha.append(point) } else { beta.append(point) }
        }
        return (alpha, beta)
    }

    /// The dataset for a device wired as `topology`: sources from each point via the input
    /// roles (inverted inputs V+ − V, rails), one label per output.
    public static func dataset(_ spec: ContrastiveTaskSpec, topology: NetworkTopology) throws(ContrastiveTaskError)
        -> ContrastiveDataset
    {
        let groups = try points(spec)
        let task = spec.name.rawValue
        guard topology.outputs.count == 1 else { throw .outputCount(task: task, outputs: topology.outputs.count) }
        let dimension = groups.first?.points.first?.x.count ?? 0
        for k in 0..<dimension where !topology.inputRoles.contains(.variable(k)) {
            throw .missingInput(task: task, role: "V\(k + 1)")
        }
        for (role, name) in [(NetworkTopology.InputRole.positiveRail, "V+"), (.negativeRail, "V−")]
        where !topology.inputRoles.contains(role) {
            throw .missingInput(task: task, role: name)
        }
        var tasks: [ContrastiveTask] = []
        for g in groups {
            var encoded: [ContrastivePoint] = []
            for p in g.points {
                var x = p.x
                while x.count < topology.dataDimension { x.append(vPlus / 2) }
                let sources = topology.sourceVoltages(for: x, vPlus: vPlus, vMinus: vMinus)
                if let bad = sources.first(where: { !($0 >= 0 && $0 <= vPlus + 1e-12) }) {
                    throw .nonPhysicalInput(task: task, value: bad)
                }
                encoded.append(ContrastivePoint(inputs: sources, labels: [p.label]))
            }
            tasks.append(ContrastiveTask(name: g.name, classification: g.classification, points: encoded))
        }
        return ContrastiveDataset(tasks: tasks)
    }
}

/// Samples a contrastive run does not learn from, evaluated by the argmax readout (the class
/// of the largest output) — the test split of a task the Jacobian methods also train.
public struct HeldOutSplit: Sendable, Equatable {
    /// Inputs, one row per sample, in the device's input unit.
    public var inputs: Matrix
    /// Class index per sample.
    public var classes: [Int]

    public init(inputs: Matrix, classes: [Int]) {
        self.inputs = inputs
        self.classes = classes
    }

    /// Fraction of samples whose largest output is their class's.
    public func accuracy(outputs: Matrix) -> Double {
        guard !classes.isEmpty else { return 0 }
        var right = 0
        for (r, c) in classes.enumerated() {
            let row = outputs.row(r)
            if let best = row.indices.max(by: { row[$0] < row[$1] }), best == c { right += 1 }
        }
        return Double(right) / Double(classes.count)
    }
}
