import PNNCore
import PNNDevices

/// Makes `remote://HOST:PORT/NAME` a DEVICE like any other (train, calibrate, …): call
/// `register()` once at start-up.
public enum RemoteDevices {
    /// Hands every `remote://` DEVICE to `RemoteSubstrate`, which takes the write lease.
    public static func register() {
        DeviceSchemes.register(prefix: RemoteDeviceAddress.scheme) { device, registry, record in
            if record != nil { throw RemoteError.recordingRemote(device) }
            let address = try RemoteDeviceAddress(parsing: device)
            let substrate = try await RemoteSubstrate.open(address)
            let family = substrate.descriptor.identity.family
            guard let driver = registry.family(named: family) else {
                await substrate.close()
                throw RemoteError.unknownFamily(device: device, family: family, known: registry.names)
            }
            return DeviceCatalog.Opened(scheme: substrate, family: driver)
        }
    }
}
