import Foundation
import PNNCore
import PNNLink
import PNNStore

/// Opens the device a DEVICE argument names: a `sim:` twin offered by a registered family,
/// a name registered with `pnnlab attach`, a serial port path or `usb:VID:PID[:serial]`.
/// Names no family; every family-specific step goes through the registry.
public enum DeviceCatalog {
    /// What `open` returns.
    public struct Opened: Sendable {
        /// The substrate to train or calibrate.
        public var substrate: any Substrate
        /// Its family's registry entry.
        public var family: any DeviceFamilyDriver.Type
        /// For `sim:` devices: which twin, with the resolved settings that rebuild it.
        public var twin: TwinSpec?
        /// For devices on a link: the board and its connection.
        public var connected: ConnectedDevice?
    }

    /// What a `sim:` twin is built from (everything optional but the seed).
    public struct TwinInputs: Sendable {
        public var seed: UInt64
        /// A config file's `[twin]` table.
        public var config: JSONValue?
        /// The settings a stored run recorded (for `--resume`): rebuild exactly that twin.
        public var stored: TwinSpec?
        /// Command-line words of the twin's own options (`--graph lattice`, `--no-bias`).
        public var optionWords: [String]
        /// An exported state to start from (`--twin-state FILE`).
        public var state: Data?
        /// What the task needs.
        public var geometry: TwinGeometry?

        public init(
            seed: UInt64, config: JSONValue? = nil, stored: TwinSpec? = nil, optionWords: [String] = [], state: Data? = nil,
            geometry: TwinGeometry? = nil
        ) {
            self.seed = seed
            self.config = config
            self.stored = stored
            self.optionWords = optionWords
            self.state = state
            self.geometry = geometry
        }

        /// Whether anything here only makes sense for a twin.
        var givesTwinSettings: Bool { config != nil || !optionWords.isEmpty || state != nil }
    }

    /// Opens `device`. Twin settings given for a board are refused with one line.
    public static func open(
        _ device: String, twin: TwinInputs, baud: Int = 115_200, store: RunStore? = nil, reconnectGrace: Double = 15,
        registry: FamilyRegistry = .standard, recordTo record: String? = nil
    ) async throws -> Opened {
        if device.hasPrefix("sim:") {
            if record != nil { throw DeviceError.recordingATwin(device) }
            guard let (family, entry) = registry.twin(named: device) else {
                throw DeviceError.unknownTwin(name: device, known: registry.twinNames)
            }
            let options = try FamilyOptionValues(parsing: twin.optionWords, declared: entry.options, context: device)
            let request = TwinRequest(
                seed: twin.seed, config: twin.stored?.config ?? twin.config, options: options, state: twin.state,
                geometry: twin.geometry, profile: try options.text("profile").map { try profile($0, for: device, store: store) })
            let built = try entry.build(request)
            return Opened(
                substrate: built.substrate, family: family,
                twin: TwinSpec(family: family.family, name: entry.name, config: built.config), connected: nil)
        }
        if twin.givesTwinSettings {
            let what =
                twin.state != nil
                ? "--twin-state"
                : twin.config != nil ? "a [twin] table" : "--" + (twin.optionWords.first ?? "").trimmingPrefix("--")
            throw DeviceError.twinSettingsForBoard(device: device, what: String(what))
        }
        if let scheme = DeviceSchemes.opener(for: device) { return try await scheme(device, registry, record) }
        if let store, let stored = try store.device(named: device), let members = rigMembers(port: stored.port) {
            return try await openRig(
                stored, members: members, geometry: twin.geometry, baud: baud, store: store, reconnectGrace: reconnectGrace,
                registry: registry)
        }
        let (address, serial) = try resolve(device, baud: baud, store: store, registry: registry)
        let connected = try await connect(address, reconnectGrace: reconnectGrace, registry: registry, recordTo: record)
        if let serial, connected.hello.serial != serial {
            await connected.connection.close()
            throw DeviceError.differentBoard(name: device, expected: serial, found: connected.hello.serial)
        }
        return Opened(substrate: connected.substrate, family: connected.driver, twin: nil, connected: connected)
    }

    /// A calibration profile document for a twin's `--profile`: the stored calibration with
    /// that id, or a profile file (`pnnlab calibrate … --out FILE`).
    static func profile(_ value: String, for twin: String, store: RunStore?) throws -> JSONValue {
        let text: String
        if let id = Int64(value) {
            guard let store else { throw TwinError.invalid(twin: twin, why: "--profile \(id) needs the run store") }
            guard let record = try store.calibrations().first(where: { $0.id == id }) else {
                throw TwinError.invalid(twin: twin, why: "no stored calibration has id \(id) (see pnnlab calibrate)")
            }
            text = record.profileJSON
        } else {
            guard let contents = try? String(contentsOfFile: value, encoding: .utf8) else {
                throw TwinError.invalid(
                    twin: twin, why: "--profile \(value) is neither a stored calibration id nor a readable file")
            }
            text = contents
        }
        do {
            return try JSONValue(parsing: Data(text.utf8))
        } catch {
            throw TwinError.invalid(twin: twin, why: "--profile \(value) is not JSON")
        }
    }

    /// The link address (and expected serial number) for a DEVICE argument: a registered
    /// name, or a port.
    public static func resolve(_ device: String, baud: Int, store: RunStore?, registry: FamilyRegistry = .standard) throws
        -> (LinkAddress, serial: String?)
    {
        if let store, let record = try store.device(named: device) {
            return (try LinkAddress(parsing: record.port, baud: baud), record.identity.serial)
        }
        if LinkAddress.looksLikePort(device) { return (try LinkAddress(parsing: device, baud: baud), nil) }
        throw DeviceError.unknownDevice(name: device, twins: registry.twinNames)
    }
}

extension DeviceCatalog {
    /// The state a `sim:` twin starts from, exported as JSON (what `pnnlab twin export`
    /// writes, and what `--twin-state FILE` reads back): built exactly as a run would build it.
    public static func exportTwin(
        _ name: String, twin: TwinInputs, registry: FamilyRegistry = .standard
    ) async throws -> Data {
        guard let (_, entry) = registry.twin(named: name) else {
            throw DeviceError.unknownTwin(name: name, known: registry.twinNames)
        }
        let opened = try await open(name, twin: twin, registry: registry)
        return try await entry.exportState(opened.substrate)
    }
}
