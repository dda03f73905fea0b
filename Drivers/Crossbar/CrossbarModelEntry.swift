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
}
