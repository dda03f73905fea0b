import CrossbarDriver
import PNNCore
import PNNLink
import Testing

/// The crossbar emulator's ADC faults: `--break-adc` (dead from the start) and
/// `--break-adc-on-signal` (armed, injected by `pnnlab emulate` on SIGUSR1).
@Suite("Crossbar emulator ADC faults")
struct EmulatorADCFaultTests {
    func board(_ words: [String]) throws -> CrossbarEmulator {
        let options = try FamilyOptionValues(
            parsing: ["--rows", "4", "--outputs", "3"] + words, declared: CrossbarFamily.emulatorOptions,
            context: "the crossbar emulator")
        let endpoint = try CrossbarFamily.emulator(EmulatorSettings(seed: 3, ideal: true, options: options))
        return try #require(endpoint as? CrossbarEmulator)
    }

    @Test("columns broken at start read dead; armed ones break once, on injection")
    func brokenAtStartAndArmed() async throws {
        let emulator = try board(["--break-adc", "0-1", "--break-adc-on-signal", "5,2"])
        #expect(await emulator.deadADCColumns == [0, 1])
        let what = await emulator.injectArmedFault()
        #expect(what == "broke ADC columns 2, 5 of 6 (they read 0 from now on)")
        #expect(await emulator.deadADCColumns == [0, 1, 2, 5])
        #expect(await emulator.injectArmedFault() == nil, "an injected fault is disarmed")
        let plain = try board([])
        #expect(await plain.injectArmedFault() == nil)
        #expect(await plain.deadADCColumns.isEmpty)
    }

    @Test(
        "column lists outside the board or malformed are refused with a sentence",
        arguments: [
            (["--break-adc", "6"], "the board has 6 ADC columns, numbered 0…5"),
            (["--break-adc-on-signal", "1,x"], "COL[,COL…]"),
            (["--break-adc", "3-1"], "A-B ranges"),
            (["--break-adc-on-signal", "-1"], "COL[,COL…]"),
        ])
    func refused(words: [String], needle: String) throws {
        do {
            _ = try board(words)
            Issue.record("\(words) was accepted")
        } catch {
            #expect("\(error)".contains(needle), "\(words): \(error)")
        }
    }

    @Test("column summaries shorten runs of three or more")
    func summaries() {
        #expect(CrossbarFamily.columnList([0, 1, 2, 3, 7, 9, 10]) == "0…3, 7, 9, 10")
    }
}
