import Foundation
import PNNCore
import PNNStore
import PNNTraining

/// A deep run: a cascade of units (`--layers`), each on its own device, trained by one
/// `DeepMethod`. Stored as the run's config JSON (with `kind = "deep"`), so `--resume RUN`
/// rebuilds the same units and trainer.
public struct DeepPlan: Sendable, Codable, Equatable {
    /// Tells deep plans apart from the other plans in the store.
    public var kind = "deep"
    /// The DEVICE argument: `sim:crossbar` (one twin per unit), one board for a one-unit
    /// cascade, or one DEVICE per unit separated by commas
    /// (`remote://lab-a:50515/xb,remote://lab-b:50515/xb`).
    public var device: String
    public var task: TaskName
    public var method: DeepMethod
    public var seed: UInt64
    /// Hidden widths, then the output count (the task's classes).
    public var layers: [Int]
    /// Batch size, rate, epochs, encoding, split, amplitudes (the Jacobian trainer's table).
    public var trainer: TrainerConfig
    /// For `sim:` devices: each unit's twin (family, name, resolved settings), recorded when
    /// the run starts so a resume rebuilds the same twins.
    public var units: [TwinSpec]?
    /// Serial baud rate for a board.
    public var baud: Int?
    /// PIB: β of −I(Y;Z) + β·I(X;Z) (nil: `DeepTrainer.defaultBeta`).
    public var beta: Double?
    /// PIB: hidden units trained all at once after one initialisation pass (`--parallel`).
    public var parallel: Bool?
    /// PIB: retrain the units after one of an earlier run (`--retrain RUN --from-unit U`).
    public var retrain: DeepRetrain?
    /// `--model-profile`: per unit, the calibration whose model the unit trains through
    /// (nil entries, or nil: the family's ideal model).
    public var modelProfiles: [DeepModelProfile?]?

    /// The DEVICE of each unit: the comma-separated list, or the one DEVICE for every unit.
    public var unitDevices: [String] {
        let parts = device.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return parts.count > 1 ? parts : [String](repeating: device, count: layers.count)
    }

    public init(
        device: String, task: TaskName, method: DeepMethod, seed: UInt64, layers: [Int], trainer: TrainerConfig = .init()
    ) {
        self.device = device
        self.task = task
        self.method = method
        self.seed = seed
        self.layers = layers
        self.trainer = trainer
    }

    /// Largest number of units and widest unit `--layers` accepts.
    public static let maxUnits = 16
    public static let maxWidth = 4096

    /// Parses `--layers` (`32,10`: hidden widths, then outputs).
    public static func parseLayers(_ text: String) throws(RunError) -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let usage = "--layers takes hidden widths then the output count, e.g. 32,10"
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw .invalid("\(usage); got nothing") }
        guard parts.count <= maxUnits else {
            throw .invalid("\(usage); got \(parts.count) units, at most \(maxUnits) are allowed")
        }
        var out: [Int] = []
        for p in parts {
            guard let n = Int(p) else { throw .invalid("\(usage); '\(p)' is not a whole number") }
            guard n >= 1 else { throw .invalid("\(usage); every width must be at least 1, got \(n)") }
            guard n <= maxWidth else { throw .invalid("\(usage); \(n) is wider than the largest unit (\(maxWidth))") }
            out.append(n)
        }
        return out
    }

    /// Key-sorted JSON (what the store keeps).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The plan stored as a run's config, or nil when that run is not a deep run.
    public static func from(json: String) -> DeepPlan? {
        guard var plan = try? JSONDecoder().decode(DeepPlan.self, from: Data(json.utf8)), plan.kind == "deep" else {
            return nil
        }
        // Runs recorded before `renyi_alpha` existed trained PIB at α = 2: resume them so.
        if !json.contains("\"renyi_alpha\"") { plan.trainer.renyiAlpha = 2 }
        return plan
    }

    /// The seed of unit ℓ's twin, derived from the run's seed (every unit a different array).
    public func unitSeed(_ l: Int) -> UInt64 {
        var rng = SeededRandom.derived(seed: seed, stream: 0xDEE9_7000 + UInt64(l))
        return rng.next() % (1 << 52)
    }
}

extension TrainRequest {
    /// Whether the request trains a cascade (`--layers`, a deep method, or resuming a deep run).
    public func isDeep(layers: String?, store: RunStore) throws -> Bool {
        if let resume { return DeepPlan.from(json: try store.run(id: resume).configJSON) != nil }
        return layers != nil || method.map { DeepMethod(rawValue: $0) != nil } ?? false
    }

    /// The deep plan: the stored one for `--resume`, else built from the flags over the config file.
    public func deepPlan(
        layers: String?, beta: Double? = nil, parallel: Bool = false, modelProfiles: String? = nil, store: RunStore
    ) throws -> DeepPlan {
        if let resume {
            if modelProfiles != nil {
                throw RunError.invalid("--resume continues a run with its recorded --model-profile; drop --model-profile")
            }
            if beta != nil { throw RunError.invalid("--resume continues a run with its recorded --beta; drop --beta") }
            if parallel { throw RunError.invalid("--resume continues a run as it was recorded; drop --parallel") }
            if layers != nil { throw RunError.invalid("--resume continues a run with its recorded --layers; drop --layers") }
            guard var stored = DeepPlan.from(json: try storedRecord(resume, store: store).configJSON) else {
                throw RunError.invalid("run \(resume) is not a deep run")
            }
            if let epochs {
                if stored.method == .pib {
                    throw RunError.invalid(
                        "a pib run's epochs are per unit, so --epochs on --resume would move the units' boundaries; drop it")
                }
                stored.trainer.epochs = epochs
            }
            if let baud { stored.baud = baud }
            return stored
        }
        var file = ConfigFile()
        if let configPath {
            file = try ConfigFile.load(path: configPath)
            if file.twin != nil {
                throw RunError.invalid(
                    "\(configPath): a [twin] table describes one device; a deep run sizes and seeds one twin per unit itself")
            }
        }
        guard let taskName = task ?? file.task else {
            throw RunError.invalid("missing --task (\(TaskName.allCases.map(\.rawValue).joined(separator: "|")))")
        }
        guard let t = TaskName(rawValue: taskName) else { throw TrainingError.unknownTask(taskName) }
        if t.isRegression {
            throw RunError.invalid("task \(taskName) is a regression; deep cascades (--layers) train classifiers only")
        }
        let methodName = method ?? file.method ?? DeepMethod.pat.rawValue
        guard let m = DeepMethod(rawValue: methodName) else {
            throw RunError.invalid(
                "--layers trains a cascade with --method \(DeepMethod.allCases.map(\.rawValue).joined(separator: "|")); '\(methodName)' is not one of them"
            )
        }
        if jacobianRefresh != nil { throw RunError.invalid("--jacobian-refresh applies to gradient and gauss-newton runs only") }
        let widths: [Int]
        if let layers {
            widths = try DeepPlan.parseLayers(layers)
        } else {
            widths = [try t.load(seed: seed ?? file.seed ?? 1).classCount]
        }
        var trainer = file.trainer
        if let epochs { trainer.epochs = epochs }
        var plan = DeepPlan(device: device, task: t, method: m, seed: seed ?? file.seed ?? 1, layers: widths, trainer: trainer)
        plan.baud = baud
        if let beta {
            guard m == .pib else { throw RunError.invalid("--beta applies to --method pib only") }
            guard beta.isFinite, beta >= 0, beta <= 10 else {
                throw RunError.invalid("--beta must be a number between 0 and 10 (typically 0.001…0.1)")
            }
            plan.beta = beta
        }
        if parallel {
            guard m == .pib else { throw RunError.invalid("--parallel applies to --method pib only") }
            guard widths.count >= 2 else {
                throw RunError.invalid("--parallel trains hidden units at once; give at least one (--layers 32,\(widths[0]))")
            }
            plan.parallel = true
        }
        if let modelProfiles {
            let resolved = try DeepModelProfile.resolve(modelProfiles, units: widths.count, store: store)
            if resolved.contains(where: { $0 != nil }) { plan.modelProfiles = resolved }
        }
        let listed = device.split(separator: ",", omittingEmptySubsequences: false)
        if listed.count > 1 {
            guard listed.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                throw RunError.invalid("DEVICE lists one device per unit separated by commas, with none empty: '\(device)'")
            }
            guard listed.count == widths.count else {
                throw RunError.invalid(
                    "DEVICE lists \(listed.count) devices for \(widths.count) unit\(widths.count == 1 ? "" : "s") (--layers \(widths.map(String.init).joined(separator: ","))): give one per unit"
                )
            }
        }
        return plan
    }
}
