import Foundation
import PNNCore
import PNNTraining

/// What a run is: task, method, seed, device and every setting. Stored as the run's
/// config JSON, so `--resume RUN` rebuilds exactly the same trainer.
public struct RunPlan: Sendable, Codable, Equatable {
    public var task: TaskName
    public var method: TrainingMethod
    public var seed: UInt64
    /// The DEVICE argument (`sim:crossbar`, a registered name, a port).
    public var device: String
    public var trainer: TrainerConfig
    /// For `sim:` devices: the twin's family, name and resolved settings (recorded when the
    /// run starts, so a resume rebuilds exactly the same twin).
    public var twin: TwinSpec?
    /// Serial baud rate for devices on a serial port (default 115 200).
    public var baud: Int?

    public init(
        task: TaskName, method: TrainingMethod, seed: UInt64, device: String, trainer: TrainerConfig = TrainerConfig(),
        twin: TwinSpec? = nil
    ) {
        self.task = task
        self.method = method
        self.seed = seed
        self.device = device
        self.trainer = trainer
        self.twin = twin
    }

    /// Pretty, key-sorted JSON (what the store keeps).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public static func from(json: String) throws -> RunPlan {
        try JSONDecoder().decode(RunPlan.self, from: Data(json.utf8))
    }
}

/// Why a run could not be set up, in words.
public enum RunError: Error, Equatable, CustomStringConvertible {
    /// A file named on the command line could not be read.
    case unreadable(path: String, why: String)
    /// Options or settings that do not fit together.
    case invalid(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let why): "cannot read \(path): \(why)"
        case .invalid(let why): why
        }
    }
}
