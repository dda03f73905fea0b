import Foundation
import PNNCore
import PNNLink
import PNNStore
import PNNTransport
import PNNWire

/// A board found at a port, with its driver attached.
public struct ConnectedDevice: Sendable {
    /// Where it was found.
    public var address: LinkAddress
    /// Its hello (identity, capability bits, descriptor).
    public var hello: HelloReply
    /// The family's registry entry.
    public var driver: any DeviceFamilyDriver.Type
    /// The host driver: a `Substrate`.
    public var substrate: any Substrate
    /// The connection (reconnects after unplugs).
    public var connection: LinkConnection
    /// Whether the board says it is an emulator (hello capability bit 31).
    public var isEmulator: Bool { hello.isEmulator }
    /// The family's name.
    public var family: String { driver.family }
}

/// Why a port could not be used as a device.
public enum DeviceError: Error, CustomStringConvertible, Equatable {
    /// The board's family has no driver in this pnnlab.
    case unknownFamily(port: String, family: String, known: [String])
    /// A `sim:` name no family offers.
    case unknownTwin(name: String, known: [String])
    /// Neither a `sim:` twin, a registered name, nor something that looks like a port.
    case unknownDevice(name: String, twins: [String])
    /// Twin settings given for a board, which has its own.
    case twinSettingsForBoard(device: String, what: String)
    /// `--record` given for a twin, which has no link to record.
    case recordingATwin(String)
    /// A device name `attach --name` may not use.
    case badName(String)
    /// The name is registered to another board already.
    case nameTaken(name: String, serial: String)
    /// The registered name points at a port where another board answers.
    case differentBoard(name: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .unknownFamily(let port, let family, let known):
            "\(port) is a '\(family)' board, which this pnnlab has no driver for (known: "
                + known.joined(separator: ", ") + ")"
        case .unknownTwin(let name, let known):
            "no twin called '\(name)'; the twins are " + known.joined(separator: ", ")
        case .unknownDevice(let name, let twins):
            "unknown device '\(name)': not a twin (" + twins.joined(separator: ", ")
                + "), not a name registered with 'pnnlab attach' and not a port path or usb:VID:PID"
        case .twinSettingsForBoard(let device, let what):
            "\(what) sets up a sim: twin; \(device) is a board, which has its own physics and wiring"
        case .recordingATwin(let device):
            "--record writes the frames of a link; \(device) is an in-process twin with no link"
        case .badName(let name):
            "device name '\(name)' may not be empty, start with '-', contain '/' or whitespace, or start with sim: or usb:"
        case .nameTaken(let name, let serial):
            "the name '\(name)' belongs to the board with serial \(serial); choose another name or detach it first"
        case .differentBoard(let name, let expected, let found):
            "device '\(name)' was registered with serial \(expected), but the board answering now has serial \(found)"
        }
    }
}

extension DeviceCatalog {
    /// Opens `address`, finds out which family answers, and attaches that family's driver.
    /// `family`, when given, must match (a clear error otherwise).
    public static func connect(
        _ address: LinkAddress, family expected: String? = nil, reconnectGrace: Double = 15,
        registry: FamilyRegistry = .standard, recordTo record: String? = nil
    ) async throws -> ConnectedDevice {
        let opener = try record.map { path throws(LinkError) in try address.opener(recordingTo: path) } ?? address.opener
        let probe = WireClient(transport: try await opener())
        let hello: HelloReply
        do {
            hello = try await probe.handshake(family: expected)
        } catch {
            await probe.close()
            throw error
        }
        await probe.close()
        LinkLog.logger.debug(
            "hello", metadata: ["port": "\(address)", "family": "\(hello.family)", "serial": "\(hello.serial)"])
        guard let driver = registry.family(named: hello.family) else {
            throw DeviceError.unknownFamily(port: address.description, family: hello.family, known: registry.names)
        }
        let connection = try await LinkConnection(
            port: address.description, family: driver.family, schemaHash: driver.schemaHash, grace: reconnectGrace,
            opener: opener)
        let substrate = try await driver.substrate(on: connection)
        return ConnectedDevice(
            address: address, hello: connection.hello, driver: driver, substrate: substrate, connection: connection)
    }
}

extension DeviceCatalog {
    /// Says hello on a serial port with a short deadline and returns the board's hello.
    public static func identify(port: String, baud: Int = 115_200, timeout: Double = 0.3) async -> Result<
        HelloReply, any Error
    > {
        let transport: any Transport
        do {
            transport = try await LinkAddress.serial(path: port, baud: baud).open()
        } catch {
            return .failure(error)
        }
        let client = WireClient(
            transport: transport,
            configuration: .init(tracker: .init(timeout: timeout, maxAttempts: 1), helloTimeout: timeout))
        let result: Result<HelloReply, any Error>
        do {
            result = .success(try await client.handshake())
        } catch {
            result = .failure(error)
        }
        await client.close()
        return result
    }
}

extension DeviceCatalog {
    /// Registers a connected board in the store so its name can be used as DEVICE. With no
    /// `name`, a board already registered (same family and serial) keeps its name and only
    /// its port is updated; a new board gets `<family>-<n>`.
    public static func register(_ device: ConnectedDevice, name: String?, store: RunStore) throws -> String {
        let identity = device.substrate.descriptor.identity
        let chosen: String
        if let name {
            guard !name.isEmpty, !name.hasPrefix("-"), !name.contains("/"), !name.hasPrefix("sim:"),
                !name.hasPrefix("usb:"), !name.contains(where: \.isWhitespace)
            else {
                throw DeviceError.badName(name)
            }
            if let existing = try store.device(named: name),
                existing.identity.family != identity.family || existing.identity.serial != identity.serial
            {
                throw DeviceError.nameTaken(name: name, serial: existing.identity.serial)
            }
            chosen = name
        } else if let existing = try store.devices().first(where: {
            $0.identity.family == identity.family && $0.identity.serial == identity.serial
        }) {
            chosen = existing.name
        } else {
            chosen = try store.nextDeviceName(family: identity.family)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let descriptor = String(decoding: try encoder.encode(device.substrate.descriptor), as: UTF8.self)
        try store.registerDevice(
            DeviceRecord(name: chosen, identity: identity, port: device.address.description, descriptorJSON: descriptor))
        return chosen
    }
}

extension DeviceCatalog {
    /// Finds out which family answers at `address` and runs the wire checks and that
    /// family's checks against it.
    public static func conformance(
        _ address: LinkAddress, registry: FamilyRegistry = .standard, recordTo record: String? = nil
    ) async throws -> (hello: HelloReply, results: [ConformanceResult]) {
        let opener = try record.map { path throws(LinkError) in try address.opener(recordingTo: path) } ?? address.opener
        let discover = WireClient(transport: try await opener())
        let hello: HelloReply
        do {
            hello = try await discover.handshake()
        } catch {
            await discover.close()
            throw error
        }
        await discover.close()
        guard let driver = registry.family(named: hello.family) else {
            throw DeviceError.unknownFamily(port: address.description, family: hello.family, known: registry.names)
        }
        let client = WireClient(transport: try await opener())
        let results = await ConformanceSuite.run(
            client: client, familyChecks: driver.conformanceChecks, family: driver.family, schemaHash: driver.schemaHash)
        await client.close()
        return (hello, results)
    }
}
