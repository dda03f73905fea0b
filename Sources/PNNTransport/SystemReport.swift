import CSerialPort
import CUSB
import Foundation
import PNNCore

/// What `pnnlab doctor` reports: the native libraries pnnlab links, their versions, and
/// the serial ports libserialport can see.
public struct SystemReport: Sendable {
    /// A linked library and its version string.
    public struct Library: Sendable {
        public var name: String
        public var version: String
    }

    public var libraries: [Library]
    public var serialPorts: [String]
    /// Why the serial port listing failed, if it did.
    public var serialError: String?

    /// Query the libraries (libserialport, libusb-1.0) and enumerate serial ports.
    public static func collect() -> SystemReport {
        var libs: [Library] = [
            Library(
                name: "OpenBLAS + LAPACKE",
                version: "\(LinearAlgebraBackend.description), \(LinearAlgebraBackend.threads) threads")
        ]
        if let v = sp_get_lib_version_string() { libs.append(Library(name: "libserialport", version: String(cString: v))) }
        if let v = libusb_get_version()?.pointee {
            libs.append(Library(name: "libusb-1.0", version: "\(v.major).\(v.minor).\(v.micro).\(v.nano)"))
        }
        var ports: [String] = []
        var error: String?
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let rc = sp_list_ports(&list)
        if rc == SP_OK, let list {
            var i = 0
            while let port = list[i] {
                if let name = sp_get_port_name(port) { ports.append(String(cString: name)) }
                i += 1
            }
            sp_free_port_list(list)
        } else {
            error = "libserialport could not list ports (code \(rc.rawValue))"
        }
        return SystemReport(libraries: libs, serialPorts: ports.sorted(), serialError: error)
    }
}
