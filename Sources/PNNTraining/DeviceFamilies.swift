import CLLNDriver
import CrossbarDriver
import Foundation
import PNNCore
import PNNLink
import PNNStore
import PNNTransport
import PNNWire

/// The device families this pnnlab can drive — one line per family.
public enum DeviceFamilies {
    /// Every family's registry entry.
    public static let all: [any DeviceFamilyDriver.Type] = [
        CrossbarFamily.self, CLLNFamily.self,
    ]

    /// The entry for `family`, if known.
    public static func driver(for family: String) -> (any DeviceFamilyDriver.Type)? {
        all.first { $0.family == family }
    }
}

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
    public var isEmulator: Bool { hello.capabilities & (1 << 31) != 0 }
}

/// Why a port could not be used as a device.
public enum DeviceError: Error, CustomStringConvertible, Equatable {
    /// The board's family has no driver in this pnnlab.
    case unknownFamily(port: String, family: String)
    /// The registered name points at a port where another board answers.
    case differentBoard(name: String, expected: String, found: String)

    public var description: String {
        switch self {
        case .unknownFamily(let port, let family):
            "\(port) is a '\(family)' board, which this pnnlab has no driver for (known: "
                + DeviceFamilies.all.map { $0.family }.joined(separator: ", ") + ")"
        case .differentBoard(let name, let expected, let found):
            "device '\(name)' was registered with serial \(expected), but the board answering now has serial \(found)"
        }
    }
}

extension DeviceCatalog {
    /// Opens `address`, finds out which family answers, and attaches that family's driver.
    /// `family`, when given, must match (a clear error otherwise).
    public static func connect(
        _ address: LinkAddress, family expected: String? = nil, reconnectGrace: Double = 15
    ) async throws -> ConnectedDevice {
        let probe = WireClient(transport: try await address.open())
        let hello: HelloReply
        do {
            hello = try await probe.handshake(family: expected)
        } catch {
            await probe.close()
            throw error
        }
        await probe.close()
        guard let driver = DeviceFamilies.driver(for: hello.family) else {
            throw DeviceError.unknownFamily(port: address.description, family: hello.family)
        }
        let connection = try await LinkConnection(
            port: address.description, family: driver.family, schemaHash: driver.schemaHash, grace: reconnectGrace,
            opener: address.opener)
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
            guard !name.isEmpty, !name.contains("/"), !name.hasPrefix("sim:"), !name.hasPrefix("usb:") else {
                throw TrainingError.invalidConfig(
                    "device name '\(name)' may not be empty, contain '/' or start with sim: or usb:")
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
    public static func conformance(_ address: LinkAddress) async throws -> (hello: HelloReply, results: [ConformanceResult]) {
        let discover = WireClient(transport: try await address.open())
        let hello: HelloReply
        do {
            hello = try await discover.handshake()
        } catch {
            await discover.close()
            throw error
        }
        await discover.close()
        guard let driver = DeviceFamilies.driver(for: hello.family) else {
            throw DeviceError.unknownFamily(port: address.description, family: hello.family)
        }
        let client = WireClient(transport: try await address.open())
        let results = await ConformanceSuite.run(
            client: client, familyChecks: driver.conformanceChecks, family: driver.family, schemaHash: driver.schemaHash)
        await client.close()
        return (hello, results)
    }
}
