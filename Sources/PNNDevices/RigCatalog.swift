import Foundation
import PNNCore
import PNNLink
import PNNStore

/// Rigs: a device made of attached devices on their own links (an optics rig: an `slm` and
/// a `camera`), stored under a name like any device. The store keeps the rig's family, its
/// members by role (port `rig:slm=slm-1,camera=camera-1`) and its settings (descriptor JSON
/// `{"rig": {…}}`); opening it opens every member and asks the family to compose them. Names
/// no family: which roles make which rig is each family's `rigMembers`.
extension DeviceCatalog {
    /// Port prefix of a stored rig.
    public static let rigPrefix = "rig:"

    /// The rig's members (role → device name) from a stored port, nil for an ordinary device.
    public static func rigMembers(port: String) -> [String: String]? {
        guard port.hasPrefix(rigPrefix) else { return nil }
        var out: [String: String] = [:]
        for pair in port.dropFirst(rigPrefix.count).split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { return nil }
            out[String(kv[0])] = String(kv[1])
        }
        return out
    }

    /// Registers rig `name` of the attached devices `members` (role → device name): the
    /// family is the one whose rig has exactly these roles; each member must be an attached
    /// device of its role's family; `optionWords` are the family's rig options.
    @discardableResult
    public static func createRig(
        name: String, members: [String: String], optionWords: [String], store: RunStore, registry: FamilyRegistry = .standard
    ) throws -> DeviceRecord {
        guard !name.isEmpty, !name.hasPrefix("-"), !name.contains("/"), !name.hasPrefix("sim:"), !name.hasPrefix("usb:"),
            !name.contains(where: { $0.isWhitespace || $0 == "," || $0 == "=" })
        else { throw DeviceError.badName(name) }
        let roles = Set(members.keys)
        let rigs = registry.families.filter { !$0.rigMembers.isEmpty }
        guard let family = rigs.first(where: { Set($0.rigMembers.map(\.role)) == roles }) else {
            throw RigError.noFamilyFor(
                roles: roles.sorted(),
                known: rigs.map { f in "\(f.family): " + f.rigMembers.map { "--\($0.role) NAME" }.joined(separator: " ") })
        }
        var serials: [String] = []
        for member in family.rigMembers {
            let device = members[member.role]!
            guard let record = try store.device(named: device) else {
                throw RigError.badMember(role: member.role, name: device, why: "no attached device has this name (pnnlab attach)")
            }
            guard record.identity.family == member.family else {
                throw RigError.badMember(
                    role: member.role, name: device,
                    why: "it is a \(record.identity.family) device, not a \(member.family) device")
            }
            serials.append(record.identity.serial)
        }
        let options = try FamilyOptionValues(
            parsing: optionWords, declared: family.rigOptions, context: "the \(family.family) rig")
        if let existing = try store.device(named: name), rigMembers(port: existing.port) == nil {
            throw DeviceError.nameTaken(name: name, serial: existing.identity.serial)
        }
        let port = rigPrefix + family.rigMembers.map { "\($0.role)=\(members[$0.role]!)" }.joined(separator: ",")
        let settings = JSONValue.object(["rig": .object(options.values.mapValues { .string($0) })])
        let record = DeviceRecord(
            name: name,
            identity: DeviceIdentity(family: family.family, model: "rig", serial: serials.joined(separator: "+"), firmware: ""),
            port: port, descriptorJSON: settings.jsonString())
        try store.registerDevice(record)
        return record
    }

    /// Opens a stored rig: each member as `open` would, then the family's composition.
    static func openRig(
        _ record: DeviceRecord, members: [String: String], geometry: TwinGeometry?, baud: Int, store: RunStore,
        reconnectGrace: Double, registry: FamilyRegistry
    ) async throws -> Opened {
        guard let family = registry.family(named: record.identity.family) else {
            throw DeviceError.unknownFamily(port: record.port, family: record.identity.family, known: registry.names)
        }
        var options: [String: String] = [:]
        if case .object(let top)? = try? JSONValue(parsing: Data(record.descriptorJSON.utf8)),
            case .object(let rig)? = top["rig"]
        {
            for (k, v) in rig { if case .string(let s) = v { options[k] = s } }
        }
        var opened: [String: any Substrate] = [:]
        var connections: [ConnectedDevice] = []
        do {
            for (role, device) in members.sorted(by: { $0.key < $1.key }) {
                let (address, serial) = try resolve(device, baud: baud, store: store, registry: registry)
                let connected = try await connect(address, reconnectGrace: reconnectGrace, registry: registry)
                connections.append(connected)
                if let serial, connected.hello.serial != serial {
                    throw DeviceError.differentBoard(name: device, expected: serial, found: connected.hello.serial)
                }
                opened[role] = connected.substrate
            }
            let substrate = try await family.rig(members: opened, options: FamilyOptionValues(options), geometry: geometry)
            return Opened(substrate: substrate, family: family, twin: nil, connected: nil)
        } catch {
            for c in connections { await c.connection.close() }
            throw error
        }
    }
}
