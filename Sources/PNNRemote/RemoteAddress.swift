/// Fixed facts of the remote service.
public enum RemoteDefaults {
    /// The port `pnnlab serve` listens on unless told otherwise.
    public static let port = 50515
    /// The listen address `pnnlab serve` uses unless told otherwise (loopback only).
    public static let host = "127.0.0.1"
    /// Environment variable holding the access token (server and clients).
    public static let tokenVariable = "PNNLAB_TOKEN"
    /// Environment variable naming a PEM file of trust roots for TLS servers (clients).
    public static let trustRootsVariable = "PNNLAB_TLS_CA"
    /// HTTP/2 frame size both ends offer (large batches travel in few frames).
    public static let maxFrameSize = 1 << 20
    /// HTTP/2 flow-control window both ends keep: how far a writer may run ahead of its reader.
    public static let windowSize = 8 << 20
}

/// A host and a port, as `pnnlab serve --listen` and `remote://` take them: `HOST:PORT`,
/// `[IPv6]:PORT`, or `HOST` alone (the default port).
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`; `what` names the argument in errors.
    public init(parsing text: String, what: String) throws(RemoteError) {
        var host = text
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .badAddress(text, why: "an IPv6 address in brackets needs its closing ']'")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw .badAddress(text, why: "expected ':PORT' after ']'") }
                portText = String(rest.dropFirst())
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else {
            throw .badAddress(text, why: "\(what) needs a host name or address")
        }
        var port = RemoteDefaults.port
        if let portText {
            guard let value = Int(portText), (0...65535).contains(value) else {
                throw .badAddress(text, why: "the port must be a number from 0 to 65535")
            }
            port = value
        }
        self.init(host: host, port: port)
    }

    /// Whether only this machine can reach the address (127.0.0.0/8, ::1, localhost).
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A served device: `remote://HOST:PORT/NAME`, NAME being what `pnnlab serve` lists.
public struct RemoteDeviceAddress: Sendable, Equatable, CustomStringConvertible {
    /// The DEVICE prefix.
    public static let scheme = "remote://"
    /// The server.
    public var server: HostPort
    /// The device's name on that server (may itself contain ':', as in `sim:crossbar`).
    public var name: String

    public init(server: HostPort, name: String) {
        self.server = server
        self.name = name
    }

    /// Parses `remote://HOST:PORT/NAME`.
    public init(parsing text: String) throws(RemoteError) {
        guard text.hasPrefix(Self.scheme) else {
            throw .badAddress(text, why: "a remote device is written remote://HOST:PORT/NAME")
        }
        let rest = text.dropFirst(Self.scheme.count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw .badAddress(text, why: "no device NAME after the server (remote://HOST:PORT/NAME)")
        }
        let name = String(rest[rest.index(after: slash)...])
        guard !name.isEmpty else {
            throw .badAddress(text, why: "no device NAME after the server (remote://HOST:PORT/NAME)")
        }
        self.init(server: try HostPort(parsing: String(rest[..<slash]), what: "remote://"), name: name)
    }

    public var description: String { Self.scheme + server.description + "/" + name }
}
