import Foundation
import PNNCore

/// Lifecycle of a training run as recorded in the store.
///
/// Every status but `completed` is resumable from the last committed step.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    /// Steps are being appended by a live process (it holds the run's lease).
    case running
    /// Stopped at a step boundary on request (first Ctrl-C, SIGTERM or SIGHUP), device left
    /// safe; resumable.
    case paused
    /// Finished all epochs (or periods).
    case completed
    /// Stopped by an error; resumable from the last committed step.
    case failed
    /// Stopped on a second interrupt: the step in flight was abandoned after the device's
    /// safe-state ramp; resumable from the last committed step.
    case aborted
    /// The process recording the run died (SIGKILL, crash, power cut) while it was
    /// `running`. Not written by a recorder: readers report a `running` run whose lease no
    /// live process holds as `interrupted`. Resumable from the last committed step.
    case interrupted

    /// Whether `--resume` may continue a run in this status.
    public var isResumable: Bool { self != .completed }
}

/// One training run: what was trained, on which device, how, and how it ended.
public struct RunRecord: Sendable, Codable, Equatable {
    /// Store-assigned identifier (`nil` before insertion).
    public var id: Int64?
    /// The DEVICE argument as the user typed it (`sim:crossbar`, `crossbar-1`, a port).
    public var deviceName: String
    /// Identity reported by the device at run start.
    public var identity: DeviceIdentity
    public var task: String
    public var method: String
    public var seed: UInt64
    /// The full run configuration as JSON (trainer settings, twin options, epochs...).
    public var configJSON: String
    public var status: RunStatus
    public var createdAt: Date
    public var updatedAt: Date
    /// Free-form final summary as JSON (final accuracies etc.), set when the run ends.
    public var summaryJSON: String?
    /// Test accuracy, 0…1, of the same architecture, encoding and split trained digitally with
    /// exact arithmetic: the number the device is chasing. `nil` when the run has none (runs
    /// recorded before stores kept it, contrastive runs).
    public var digitalCeiling: Double?
    /// The calibration profile of the device when the run was created (its newest profile of
    /// the same family and serial), set by the store; `nil` when the device had none.
    public var calibrationId: Int64?

    public init(
        id: Int64? = nil, deviceName: String, identity: DeviceIdentity, task: String, method: String,
        seed: UInt64, configJSON: String, status: RunStatus = .running, createdAt: Date = Date(),
        updatedAt: Date = Date(), summaryJSON: String? = nil, digitalCeiling: Double? = nil,
        calibrationId: Int64? = nil
    ) {
        self.id = id
        self.deviceName = deviceName
        self.identity = identity
        self.task = task
        self.method = method
        self.seed = seed
        self.configJSON = configJSON
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.summaryJSON = summaryJSON
        self.digitalCeiling = digitalCeiling
        self.calibrationId = calibrationId
    }
}

/// One committed training step. Steps are numbered from 1 within a run.
public struct StepRecord: Sendable, Codable, Equatable {
    public var runID: Int64
    public var step: Int
    public var epoch: Int
    public var loss: Double
    /// Accuracy on the training split, 0...1 (`nil` when not evaluated at this step).
    public var trainAccuracy: Double?
    /// Accuracy on the test split, 0...1 (`nil` when not evaluated at this step).
    public var testAccuracy: Double?
    /// Input vectors applied to the device during this step.
    public var measurements: Int
    /// Input vectors applied since the run started, this step included.
    public var cumulativeMeasurements: Int
    /// Wall time spent in this step, seconds.
    public var wallSeconds: Double
    /// Parameter targets after the step (device units), stored as a Float64 blob.
    public var parameters: [Double]
    /// Opaque trainer state needed to resume exactly (JSON), e.g. RNG state, step size.
    public var checkpointJSON: String

    public init(
        runID: Int64, step: Int, epoch: Int, loss: Double, trainAccuracy: Double?, testAccuracy: Double?,
        measurements: Int, cumulativeMeasurements: Int, wallSeconds: Double, parameters: [Double],
        checkpointJSON: String
    ) {
        self.runID = runID
        self.step = step
        self.epoch = epoch
        self.loss = loss
        self.trainAccuracy = trainAccuracy
        self.testAccuracy = testAccuracy
        self.measurements = measurements
        self.cumulativeMeasurements = cumulativeMeasurements
        self.wallSeconds = wallSeconds
        self.parameters = parameters
        self.checkpointJSON = checkpointJSON
    }
}

/// A block of measured values belonging to one step, stored as one blob (not a row per
/// value): e.g. the outputs of every probe used for a Jacobian.
public struct MeasurementBlock: Sendable, Equatable {
    /// What the block holds, e.g. `outputs`, `jacobian`, `readback`.
    public var kind: String
    public var rows: Int
    public var cols: Int
    /// Row-major values, `rows * cols` of them.
    public var values: [Double]

    public init(kind: String, rows: Int, cols: Int, values: [Double]) {
        precondition(values.count == rows * cols, "measurement block \(kind): \(values.count) values for \(rows)×\(cols)")
        self.kind = kind
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(kind: String, matrix: Matrix) {
        self.init(kind: kind, rows: matrix.rows, cols: matrix.cols, values: matrix.storage)
    }
}

/// A device registered under a name (`pnnlab attach`), usable as a DEVICE argument.
public struct DeviceRecord: Sendable, Codable, Equatable {
    public var name: String
    public var identity: DeviceIdentity
    /// Port path or USB selector it was attached through.
    public var port: String
    /// The descriptor reported at attach time, as JSON.
    public var descriptorJSON: String
    public var registeredAt: Date

    public init(name: String, identity: DeviceIdentity, port: String, descriptorJSON: String, registeredAt: Date = Date()) {
        self.name = name
        self.identity = identity
        self.port = port
        self.descriptorJSON = descriptorJSON
        self.registeredAt = registeredAt
    }
}
