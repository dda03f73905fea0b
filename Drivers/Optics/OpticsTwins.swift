import Foundation
import PNNCalibration
import PNNCore
import PNNSim

extension OpticsFamily {
    public static var twins: [TwinEntry] {
        [
            TwinEntry(
                name: "sim:optics",
                summary: "phase SLM + scattering medium + camera twin: input region sized to the task, "
                    + "one trainable grey level added to each input macro-pixel (overlay layout), "
                    + "binned camera features as outputs; every non-ideality on by default",
                options: [
                    FamilyOption(
                        "ideal", .flag, help: "Switch every non-ideality of the twin off (noise-free, settled, linear LUT)."),
                    FamilyOption(
                        "binary", .flag,
                        help: "Encode inputs as a binary amplitude mask (DMD/OPU-like) instead of phase (side-by-side layout)."),
                    FamilyOption(
                        "layout", .text(valueName: "overlay|side-by-side"),
                        help: "Where the trainable grey levels go: added to the input macro-pixels (overlay, default) "
                            + "or on macro-pixels of their own beside them (side-by-side)."),
                    FamilyOption(
                        "profile", .text(valueName: "ID|FILE"),
                        help: "Imitate a calibrated optics rig: a stored calibration's id (pnnlab calibrate) or a "
                            + "profile file (calibrate --out); the twin takes the measured LUT, settle time and camera "
                            + "black level, gain and read noise."),
                ],
                build: buildTwin, exportState: exportTwinState)
        ]
    }

    /// Builds `sim:optics`: from an exported state when one is given, otherwise from the
    /// defaults overlaid with the `[twin]` keys, with the input region sized to the task
    /// unless the settings give `inputs`.
    ///
    /// Layout: `--layout`, else the `[twin]` key `layout`, else overlay (the layout in-situ
    /// phase training can use; `--method readout` is indifferent: a fixed phase mask before a
    /// random complex Gaussian medium leaves the projection's statistics unchanged), with one
    /// trainable grey level per input macro-pixel unless `parameters` is given. Binary-amplitude
    /// inputs keep side by side. A settings table holding every key the twin records except
    /// `layout` is a run recorded before layouts existed and rebuilds side by side, as it ran.
    /// A deep cascade's unit gets exactly its width of camera features (`sizeROI`).
    ///
    /// `--profile` (``imitate(_:in:)``): the measured constants replace the nominal ones; the
    /// resolved settings are the config plus `profile`, the profile it came from, so the run
    /// records it and a resumed run rebuilds the same twin, profile noted.
    static func buildTwin(_ request: TwinRequest) throws -> BuiltTwin {
        let name = "sim:optics"
        if let state = request.state ?? request.config?["state"].map({ Data($0.jsonString().utf8) }) {
            let twin = try OpticsTwin(importing: state)
            var settings: [String: JSONValue] = ["state": try JSONValue(parsing: state)]
            settings["profile"] = request.config?["profile"]
            return BuiltTwin(substrate: twin, config: .object(settings))
        }
        let given = request.config ?? .object([:])
        guard case .object(var table) = given else {
            throw TwinError.invalid(twin: name, why: "the [twin] settings must be a table")
        }
        var source = table.removeValue(forKey: "profile")  // a resumed run keeps the profile it used
        var imitated: CalibrationProfile?
        if source == nil, let document = request.profile {
            guard request.config == nil, !request.options.flag("ideal") else {
                throw TwinError.invalid(
                    twin: name, why: "--profile imitates a calibrated rig; it takes no [twin] settings or --ideal")
            }
            imitated = try profile(for: document)
        }
        for key in table.keys.sorted() where !OpticsConfig.knownKeys.contains(key) {
            throw TwinError.unknownSetting(twin: name, key: key)
        }
        var config: OpticsConfig
        do {
            config = try JSONValue.object(table).decode(OpticsConfig.self)
        } catch {
            throw TwinError.invalid(twin: name, why: "[twin] settings could not be read (\(error))")
        }
        if request.options.flag("ideal") { config = config.idealised() }
        if request.options.flag("binary") { config.inputMode = .binary }
        if table["inputs"] == nil, let inputs = request.geometry?.inputs { config.inputs = inputs }
        if let text = request.options.text("layout") {
            guard let layout = OpticsLayout(rawValue: text) else {
                throw TwinError.invalid(twin: name, why: "--layout \(text): choose overlay or side-by-side")
            }
            config.layout = layout
        } else if table["layout"] == nil {
            let recordedBeforeLayouts = recordedKeys.isSubset(of: table.keys)
            config.layout = recordedBeforeLayouts || config.inputMode == .binary ? .sideBySide : .overlay
        }
        if config.layout == .overlay && table["parameters"] == nil { config.parameters = config.inputs }
        if table["seed"] == nil { config.seed = request.seed }
        if let imitated { source = try imitate(imitated, in: &config) }
        if let g = request.geometry, g.exactOutputs, cameraKeys.isDisjoint(with: table.keys) { sizeROI(&config, to: g.outputs) }
        if let why = config.problem() { throw TwinError.invalid(twin: name, why: why) }
        let twin = try OpticsTwin(config: config)
        var settings = try JSONValue(encoding: config)
        if case .object(var recorded) = settings, let source {
            recorded["profile"] = source
            settings = .object(recorded)
        }
        return BuiltTwin(substrate: twin, config: settings)
    }

    /// `[twin]` keys that place the ROI; when any is given the table decides the features.
    static let cameraKeys: Set<String> = ["camera_width", "camera_height", "roi_x", "roi_y", "roi_width", "roi_height"]

    /// A unit of a deep cascade (`TwinGeometry.exactOutputs`): the ROI becomes one row of
    /// `outputs` bins (`outputs·binning` × `binning` pixels at the sensor's corner), the
    /// sensor widened when it is narrower, so the features are exactly the unit's outputs.
    static func sizeROI(_ config: inout OpticsConfig, to outputs: Int) {
        let b = max(config.binning, 1)
        config.roiX = 0
        config.roiY = 0
        config.roiWidth = outputs * b
        config.roiHeight = b
        config.cameraWidth = max(config.cameraWidth, outputs * b)
        config.cameraHeight = max(config.cameraHeight, b)
    }

    /// Keys every recorded `sim:optics` settings table holds (the ones always encoded).
    static let recordedKeys: Set<String> = {
        let always = (try? JSONValue(encoding: OpticsConfig())).flatMap { v -> Set<String>? in
            guard case .object(let t) = v else { return nil }
            return Set(t.keys)
        }
        return (always ?? []).subtracting(["layout"])
    }()

    static func exportTwinState(_ substrate: any Substrate) async throws -> Data {
        guard let twin = substrate as? OpticsTwin else { throw TwinError.notThisTwin("sim:optics") }
        return await twin.exportState()
    }
}
