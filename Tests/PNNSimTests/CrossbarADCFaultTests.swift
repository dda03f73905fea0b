import Foundation
import PNNCore
import PNNSim
import Testing

/// A broken ADC column on demand (`ReadoutFaults`): the column reads 0 from then on, also
/// after a reset and in the exported state; nothing else changes; a column the array lacks is
/// refused without counting as a safety violation.
@Suite struct CrossbarADCFaultTests {
    @Test func aBrokenColumnReadsZeroAndNothingElseChanges() async throws {
        var config = CrossbarConfig.ideal
        config.rows = 4
        config.outputs = 3
        let twin = try CrossbarTwin(config: config)
        let x = Matrix(rows: 2, cols: 4, storage: [0.1, -0.2, 0.05, 0.3, -0.1, 0.2, 0.25, -0.05])
        let before = try await twin.measurePhysicalColumns(x)
        #expect(await twin.readoutChannelCount == 6)
        try await twin.breakReadout(channel: 3)
        let after = try await twin.measurePhysicalColumns(x)
        for r in 0..<2 {
            for c in 0..<6 {
                if c == 3 {
                    #expect(after[r, c] == 0 && before[r, c] != 0)
                } else {
                    #expect(after[r, c] == before[r, c])
                }
            }
        }
        await twin.reset()
        #expect(try await twin.measurePhysicalColumns(x)[0, 3] == 0, "a reset does not mend a converter")
        let state = try await twin.exportState()
        #expect(String(decoding: state, as: UTF8.self).contains("dead_adc_columns"))
        let imported = try CrossbarTwin(importing: state)
        #expect(try await imported.measurePhysicalColumns(x)[1, 3] == 0)
        await #expect(throws: CrossbarTwinError.invalidADCColumn(6, count: 6)) { try await twin.breakADC(column: 6) }
        #expect(await twin.statistics().violations == 0)
    }
}
