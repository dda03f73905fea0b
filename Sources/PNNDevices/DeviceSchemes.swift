import PNNCore
import PNNLink
import Synchronization

/// DEVICE arguments with a scheme (`remote://HOST:PORT/NAME`) that a module above the
/// registry knows how to open. The module registers its opener once at start-up
/// (`DeviceSchemes.register`); `DeviceCatalog.open` then hands every DEVICE starting with
/// that scheme to it. Keeps the registry free of network code.
public enum DeviceSchemes {
    /// Opens one DEVICE argument with the scheme; the registry is the caller's (to look up
    /// the family the far end reports); `record` is `--record FILE`, if given.
    public typealias Opener =
        @Sendable (_ device: String, _ registry: FamilyRegistry, _ record: String?) async throws ->
        DeviceCatalog.Opened

    private static let openers = Mutex<[(prefix: String, open: Opener)]>([])

    /// Hands every DEVICE starting with `prefix` (e.g. `remote://`) to `open`, for the rest
    /// of the process. Registering a prefix again replaces its opener.
    public static func register(prefix: String, _ open: @escaping Opener) {
        openers.withLock { list in
            list.removeAll { $0.prefix == prefix }
            list.append((prefix, open))
        }
    }

    /// The opener for `device`, if its scheme is registered.
    static func opener(for device: String) -> Opener? {
        openers.withLock { list in list.first { device.hasPrefix($0.prefix) }?.open }
    }
}

extension DeviceCatalog.Opened {
    /// A device opened through a registered scheme: a substrate of a known family, with no
    /// twin settings and no local link.
    public init(scheme substrate: any Substrate, family: any DeviceFamilyDriver.Type) {
        self.init(substrate: substrate, family: family, twin: nil, connected: nil)
    }
}
