/// A run with the figures a listing (`pnnlab runs`) shows.
public struct RunSummary: Sendable, Equatable {
    /// The run itself.
    public var run: RunRecord
    /// Committed steps.
    public var stepCount: Int
    /// The stored loss of the last committed step (`nil` before the first step): the batch
    /// loss for Jacobian runs. Results report `final_loss` (the last evaluation loss) instead,
    /// through PNNRuns' `RunResult`.
    public var lastLoss: Double?
    /// Training accuracy at the last step where it was evaluated.
    public var lastTrainAccuracy: Double?
    /// Test accuracy at the last step where it was evaluated.
    public var lastTestAccuracy: Double?
    /// Input vectors applied over the whole run (the last step's cumulative count).
    public var totalMeasurements: Int

    /// A summary from its parts (the store builds these in `runs()`).
    public init(
        run: RunRecord, stepCount: Int, lastLoss: Double?, lastTrainAccuracy: Double?, lastTestAccuracy: Double?,
        totalMeasurements: Int
    ) {
        self.run = run
        self.stepCount = stepCount
        self.lastLoss = lastLoss
        self.lastTrainAccuracy = lastTrainAccuracy
        self.lastTestAccuracy = lastTestAccuracy
        self.totalMeasurements = totalMeasurements
    }
}

/// One stored block of measured values with the step it belongs to.
public struct StoredMeasurement: Sendable, Equatable {
    /// Step number within the run (from 1).
    public var step: Int
    /// The block as it was appended.
    public var block: MeasurementBlock

    /// A block tagged with its step.
    public init(step: Int, block: MeasurementBlock) {
        self.step = step
        self.block = block
    }
}
