import CameraDriver
import Foundation
import PNNSim
import PNNWire
import Synchronization

/// The simulated optical table behind emulated SLMs and cameras: the SLM's liquid crystal
/// (`PhaseSLM`), the scattering medium from the SLM's macro-pixels to every camera pixel,
/// one simulated clock, and the trigger line from the SLM's "pattern settled" output to the
/// camera's line 1.
///
/// An `SLMEmulator` shows patterns on it; a `CameraEmulator` sees it as its
/// ``CameraScene``. `pnnlab emulate slm` gives the SLM a bench of its own; `pnnlab emulate
/// optics` puts the SLM and the camera on one bench (one process, two ptys), so the camera
/// sees what the SLM shows, blended while the crystal settles, and exposes on the SLM's
/// trigger pulses when asked to. The medium is frozen (no decorrelation on the bench).
public final class OpticsBench: CameraScene {
    /// One pattern change: when, and the crystal's state from then on.
    struct Show {
        var time: Double
        var slm: PhaseSLM
    }

    struct State {
        var clock: Double = 1
        var slm: PhaseSLM
        /// Recent pattern changes, oldest first (exposures look up the crystal at their time).
        var history: [Show] = []
        /// Trigger-out pulses ("pattern settled"), ascending.
        var pulses: [Double] = []
        /// Every exposure rendered: its start, the CRC-32 of the pattern commanded then and
        /// the crystal's settled fraction over the exposure (start and end).
        var exposures: [BenchExposure] = []
    }

    /// The settings the SLM and the medium were built from.
    public let config: OpticsConfig
    /// Camera sensor size, pixels.
    public let sensorWidth: Int
    public let sensorHeight: Int
    /// Time from a pattern change to "settled" (t0 + 4b; 0 without settling), s.
    public let settleTime: Double
    let medium: TransmissionMatrix
    private let state: Mutex<State>
    /// Pattern changes kept for exposures that look back.
    static let historyLimit = 64

    /// A bench for `config`'s SLM (its macro-pixel grid, LUT, fringing, settling) in front of
    /// a `sensorWidth` × `sensorHeight` camera.
    public init(config: OpticsConfig, sensorWidth: Int? = nil, sensorHeight: Int? = nil) {
        self.config = config
        self.sensorWidth = sensorWidth ?? config.cameraWidth
        self.sensorHeight = sensorHeight ?? config.cameraHeight
        settleTime = config.settlingEnabled ? config.settleDelay + 4 * config.settleTau : 0
        var slm = PhaseSLM(config: config)
        let n = config.resolvedGridWidth * config.gridHeight
        slm.grey = Array(repeating: 0, count: n)
        slm.startPhase = Array(repeating: slm.lut[0], count: n)
        medium = TransmissionMatrix(sources: n, pixels: self.sensorWidth * self.sensorHeight, seed: config.seed)
        state = Mutex(State(slm: slm, history: [Show(time: -1e9, slm: slm)]))
    }

    // MARK: The SLM's side

    /// The crystal now.
    public var slm: PhaseSLM { state.withLock { $0.slm } }

    /// Commands `pattern`; with `triggerOut` the trigger line pulses when it has settled
    /// (a pulse still pending from an earlier pattern is cancelled: that one never settled).
    public func show(_ pattern: [UInt8], triggerOut: Bool) {
        state.withLock { s in
            s.slm.show(pattern, at: s.clock)
            s.history.append(Show(time: s.clock, slm: s.slm))
            if s.history.count > Self.historyLimit { s.history.removeFirst() }
            let now = s.clock
            s.pulses.removeAll { $0 > now }
            if triggerOut { s.pulses.append(now + settleTime) }
        }
    }

    /// Replaces the grey → phase table (from now on).
    public func loadLUT(_ table: [Double]) {
        state.withLock { s in
            s.slm.loadLUT(table)
            s.history.append(Show(time: s.clock, slm: s.slm))
            if s.history.count > Self.historyLimit { s.history.removeFirst() }
        }
    }

    /// Time left until the shown pattern has settled, s.
    public func remainingSettle() -> Double {
        state.withLock { max(0, $0.slm.switchTime + settleTime - $0.clock) }
    }

    /// Every exposure rendered so far (tests of synchronisation).
    public var exposures: [BenchExposure] { state.withLock { $0.exposures } }

    // MARK: CameraScene

    public func now() -> Double { state.withLock { $0.clock } }

    public func advance(to t: Double) { state.withLock { $0.clock = max($0.clock, t) } }

    public func linePulse(after t: Double, upTo limit: Double) -> Double? {
        state.withLock { s in s.pulses.first { $0 > t && $0 <= limit } }
    }

    public func intensities(start: Double, duration: Double) -> [Double] {
        let (crystal, record) = state.withLock { s -> (PhaseSLM, BenchExposure) in
            let shown = s.history.last { $0.time <= start }?.slm ?? s.slm
            let a0 = shown.settledFraction(after: start - shown.switchTime)
            let a1 = shown.settledFraction(after: start + duration - shown.switchTime)
            let record = BenchExposure(start: start, patternCRC: CRC32.checksum(shown.grey), settledAtStart: a0, settledAtEnd: a1)
            s.exposures.append(record)
            return (shown, record)
        }
        _ = record
        let phase = crystal.phase(at: start + duration / 2)
        var field = [Double](repeating: 0, count: 2 * medium.sources)
        for i in 0..<min(phase.count, medium.sources) {
            field[2 * i] = cos(phase[i])
            field[2 * i + 1] = sin(phase[i])
        }
        return medium.intensities(field, rows: 1)
    }
}

/// One exposure as the bench saw it: what the SLM had been commanded to show and how far
/// the crystal had settled.
public struct BenchExposure: Sendable, Equatable {
    /// Exposure start, s.
    public var start: Double
    /// CRC-32 of the grey levels commanded at the exposure's start.
    public var patternCRC: UInt32
    /// Settled fraction 1 − e^{−(t−t0)/b} at the exposure's start and end.
    public var settledAtStart: Double
    public var settledAtEnd: Double
}
