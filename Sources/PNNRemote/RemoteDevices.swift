import PNNCore
import PNNDevices

/// Makes `remote://HOST:PORT/NAME` a DEVICE like any other (train, calibrate, …): call
/// `register()` once at start-up.
public enum RemoteDevices {
    /// Hands every `remote://` DEVICE to `RemoteSubstrate`, which takes the write lease and
    /// forwards the optional capabilities the server declares (so a remote CLLN board trains
    /// with the contrastive methods).
    public static func register() {
        DeviceSchemes.register(prefix: RemoteDeviceAddress.scheme) { device, registry, record in
            if record != nil { throw RemoteError.recordingRemote(device) }
            let address = try RemoteDeviceAddress(parsing: device)
            let remote = try await RemoteSubstrate.open(address)
            let family = remote.descriptor.identity.family
            guard let driver = registry.family(named: family) else {
                await remote.close()
                throw RemoteError.unknownFamily(device: device, family: family, known: registry.names)
            }
            let substrate: any Substrate
            do {
                substrate = try remote.withCapabilities()
            } catch {
                await remote.close()
                throw error
            }
            return DeviceCatalog.Opened(scheme: substrate, family: driver)
        }
    }
}
