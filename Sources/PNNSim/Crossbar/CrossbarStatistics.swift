/// What a crossbar twin has done since it was built: the counters a test or a benchmark
/// uses to prove how much device work a procedure cost and that nothing unsafe arrived.
public struct CrossbarStatistics: Sendable, Codable, Equatable {
    /// SET and RESET pulses sent (including pulses wasted on stuck devices).
    public var pulses: Int = 0
    /// Single-device reads (verify reads and full-array parameter reads).
    public var reads: Int = 0
    /// Input vectors applied to the array (matrix–vector products).
    public var vectorsMeasured: Int = 0
    /// Requests refused because a value was outside the declared safe range (or malformed).
    public var violations: Int = 0
    /// Program-and-verify operations started.
    public var programAndVerifyCalls: Int = 0
    /// Program-and-verify operations that ran out of pulses before reaching tolerance.
    public var unconvergedVerifies: Int = 0
    /// Times the twin was put in its safe state (inputs grounded).
    public var safeStateEntries: Int = 0
    /// Simulated time since the twin was built, s.
    public var simulatedSeconds: Double = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case pulses, reads, violations
        case vectorsMeasured = "vectors_measured"
        case programAndVerifyCalls = "program_and_verify_calls"
        case unconvergedVerifies = "unconverged_verifies"
        case safeStateEntries = "safe_state_entries"
        case simulatedSeconds = "simulated_seconds"
    }
}
