import PNNCalibration
import PNNCore
import PNNSim

extension CrossbarFamily {
    /// The ideal differential crossbar (`CrossbarModel`) of the descriptor's geometry, for
    /// twins and boards alike (both name their parameters as a differential crossbar).
    public static func model(for descriptor: SubstrateDescriptor) -> (any SubstrateModel)? {
        guard case .differentialCrossbar(let rows, let cols) = descriptor.parameters.naming,
            rows == descriptor.inputs.count, cols == descriptor.outputs.count
        else { return nil }
        return CrossbarModel(rows: rows, outputs: cols)
    }

    /// The crossbar as its calibration (`crossbar-devices`) measured it
    /// (`CalibratedCrossbarModel`): each device's window and the stuck devices, each column's
    /// ADC gain and offset and the dead columns, the ADC full scale. Refused for another
    /// device's profile (serial), another procedure's, or another geometry.
    public static func model(for descriptor: SubstrateDescriptor, profile: CalibrationProfile) throws -> (any SubstrateModel)? {
        let procedure = CrossbarCalibration().name
        guard profile.procedure == procedure else {
            throw CalibrationError.unreadable("it is a \(profile.family) \(profile.procedure) profile, not a \(procedure) one")
        }
        let r = try profile.payload(CrossbarCalibrationResult.self, for: descriptor.identity)
        guard case .differentialCrossbar(let rows, let cols) = descriptor.parameters.naming,
            rows == r.geometry.rows, cols == r.geometry.outputs
        else {
            throw CalibrationError.unreadable(
                "it describes a \(r.geometry.rows) × \(r.geometry.outputs) crossbar; \(descriptor.identity.summary) is \(descriptor.inputs.count) × \(descriptor.outputs.count)"
            )
        }
        let stuck = Set(r.stuckDevices)
        let dead = Set(r.deadColumns)
        return try CalibratedCrossbarModel(
            rows: rows, outputs: cols, gMin: r.gMinUs, gMax: r.gMaxUs,
            stuck: (0..<r.gMinUs.count).map { stuck.contains($0) },
            adcGain: r.adcGain.enumerated().map { dead.contains($0) ? 0 : $1 },
            adcOffset: r.adcOffsetUa.enumerated().map { dead.contains($0) ? 0 : $1 },
            fullScale: r.geometry.fullScale > 0 ? r.geometry.fullScale : nil)
    }
}
