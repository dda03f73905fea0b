import ArgumentParser
import CLLNDriver
import Foundation
import PNNCalibration
import PNNCore
import PNNSim
import PNNStore
import PNNTraining

/// `pnnlab calibrate DEVICE` — measure a device's calibration profile and store it.
struct Calibrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a device's calibration profile (CLLN: A0 and B per edge) and store it under its serial.",
        discussion: """
            On a twin (sim:clln) or an emulated board the hidden truth is known, and the error of
            every measured figure against it is reported.
            """)

    @Argument(help: "Device: sim:clln, a name registered with 'pnnlab attach', or a port.")
    var device: String

    @Option(help: "Seed of the sim:clln twin.")
    var seed: UInt64 = 1

    @Option(help: "Appendix-C trials (imposed voltages, measured ΔG).")
    var trials: Int = 24

    @Option(help: "Also write the profile JSON to this file.")
    var out: String?

    @Option(help: "Baud rate for a serial port.")
    var baud: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if trials < 4 { throw ValidationError("--trials must be at least 4") }
    }

    func run() async throws {
        let store = try storeOptions.open()
        let substrate: any Substrate
        var truth: CLLNState?
        if device == "sim:clln" {
            let twin = try CLLNTwin(seed: seed)
            truth = await twin.exportState()
            substrate = twin
        } else {
            let (address, _) = try DeviceCatalog.resolve(device, baud: baud ?? 115_200, store: store)
            let connected = try await DeviceCatalog.connect(address)
            substrate = connected.substrate
            if connected.isEmulator, let board = substrate as? CLLNBoard {
                truth = try await board.emulatorState()
            }
        }
        let procedure = try CalibrationProcedures.procedure(for: substrate.descriptor.identity.family)
        guard var clln = procedure as? CLLNCalibration else { throw CLIError("no calibration procedure for this family") }
        clln.trials = trials
        let tty = Terminal.stderrIsTTY
        let profile = try await clln.run(on: substrate) { done, total, what in
            if tty {
                Terminal.writeError("\r calibrating \(done)/\(total): \(what)\u{1B}[K")
            } else if done == total || done % 8 == 0 {
                Terminal.writeError("calibrating \(done)/\(total): \(what)\n")
            }
        }
        if tty { Terminal.writeError("\n") }
        try await substrate.enterSafeState()
        let id = try store.saveCalibration(
            CalibrationRecord(
                family: profile.family, serial: profile.serial, procedure: profile.procedure,
                version: profile.procedureVersion, createdAt: profile.createdAt, profileJSON: profile.json()))
        if let out { try profile.json().write(toFile: out, atomically: true, encoding: .utf8) }
        let result = try profile.payload(CLLNCalibrationResult.self, for: substrate.descriptor.identity)
        var comparison: CLLNCalibrationComparison?
        if let truth {
            let t = truth.topology.trainableEdges
            comparison = CLLNCalibrationComparison(
                result: result, trueLearningRates: t.map { truth.learningRates[$0] }, trueBiases: t.map { truth.biases[$0] })
        }
        if json {
            var object: [String: Any] = [
                "calibration": id, "serial": profile.serial, "family": profile.family, "procedure": profile.procedure,
                "learning_rates_per_V_s": result.learningRates, "bias_intercept_V_s": result.biasIntercept,
                "bias_drift_V_s": result.biasDrift, "determined": result.determined, "fit_residual_V_s": result.fitResidual,
            ]
            if let c = comparison {
                object["truth"] = [
                    "a0_relative_rms": c.learningRateRelativeRMS, "b_intercept_rms_V_s": c.biasInterceptRMS,
                    "b_drift_rms_V_s": c.biasDriftRMS, "b_true_rms_V_s": c.biasScaleRMS, "determined_edges": c.determinedEdges,
                ]
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let determined = result.determined.filter { $0 }.count
        var rows: [(String, String)] = [
            ("calibration", "\(id) (\(profile.procedure) v\(profile.procedureVersion))"),
            ("device", "\(profile.family) \(profile.serial)"),
            ("A0 determined", "\(determined) of \(result.learningRates.count) edges"),
            (
                "mean A0",
                String(
                    format: "%.3g /(V·ms)",
                    zip(result.learningRates, result.determined).filter(\.1).map(\.0).reduce(0, +) / Double(max(determined, 1))
                        / 1000)
            ),
            ("fit residual", String(format: "%.3g V/s", result.fitResidual)),
        ]
        if let c = comparison {
            rows.append(("A0 error (RMS, rel.)", String(format: "%.2f %%", c.learningRateRelativeRMS * 100)))
            rows.append(
                ("B error, appendix C", String(format: "%.3g V/s RMS (true B: %.3g V/s RMS)", c.biasInterceptRMS, c.biasScaleRMS))
            )
            rows.append(("B error, appendix E", String(format: "%.3g V/s RMS", c.biasDriftRMS)))
        }
        print(Table.keyValue(rows))
    }
}
