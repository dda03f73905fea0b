import Foundation

/// One array of an `.npz` file: little-endian float64 (`<f8`), int64 (`<i8`) or fixed-width
/// Unicode text (`<U`n, what `np.array(["a", "bc"])` makes), with its shape.
public struct NPYArray: Sendable, Equatable {
    /// The values, flattened in C (row-major) order.
    public enum Values: Sendable, Equatable {
        case float64([Double])
        case int64([Int64])
        case unicode([String])
    }

    public var values: Values
    /// The shape; `[]` is a 0-d array holding one value.
    public var shape: [Int]

    public init(_ values: Values, shape: [Int]) {
        let count: Int
        switch values {
        case .float64(let v): count = v.count
        case .int64(let v): count = v.count
        case .unicode(let v): count = v.count
        }
        precondition(shape.reduce(1, *) == count, "NPY array: \(count) values for shape \(shape)")
        self.values = values
        self.shape = shape
    }

    /// A 1-d float64 array.
    public static func float64(_ v: [Double]) -> NPYArray { NPYArray(.float64(v), shape: [v.count]) }
    /// A 1-d int64 array.
    public static func int64(_ v: [Int]) -> NPYArray { NPYArray(.int64(v.map(Int64.init)), shape: [v.count]) }
    /// A 1-d text array.
    public static func strings(_ v: [String]) -> NPYArray { NPYArray(.unicode(v), shape: [v.count]) }
    /// A 0-d text array (`str(np.load(f)["name"])` reads it back).
    public static func text(_ s: String) -> NPYArray { NPYArray(.unicode([s]), shape: []) }
    /// A rows × cols float64 array from row-major values.
    public static func matrix(_ v: [Double], rows: Int, cols: Int) -> NPYArray { NPYArray(.float64(v), shape: [rows, cols]) }

    /// The `.npy` file (format 1.0): magic, header dict padded to a 64-byte boundary, raw data.
    public func npy() -> Data {
        let descr: String
        var body = Data()
        switch values {
        case .float64(let v):
            descr = "<f8"
            body.reserveCapacity(8 * v.count)
            for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
        case .int64(let v):
            descr = "<i8"
            body.reserveCapacity(8 * v.count)
            for x in v { withUnsafeBytes(of: x.littleEndian) { body.append(contentsOf: $0) } }
        case .unicode(let v):
            let width = max(1, v.map(\.unicodeScalars.count).max() ?? 1)
            descr = "<U\(width)"
            body.reserveCapacity(4 * width * v.count)
            for s in v {
                let scalars = Array(s.unicodeScalars)
                for i in 0..<width {
                    let code = i < scalars.count ? scalars[i].value : 0
                    withUnsafeBytes(of: code.littleEndian) { body.append(contentsOf: $0) }
                }
            }
        }
        let shapeText =
            shape.isEmpty
            ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])  // \x93NUMPY, version 1.0
        let length = UInt16(header.utf8.count)
        withUnsafeBytes(of: length.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header.utf8)
        out.append(body)
        return out
    }
}

/// Why an `.npz` archive could not be built.
public enum NPZError: Error, Equatable, CustomStringConvertible {
    /// A member or the whole archive passes the 4 GiB a plain (non-ZIP64) archive can address.
    case tooLarge(name: String, bytes: Int)
    /// Two arrays with one name.
    case duplicateName(String)

    public var description: String {
        switch self {
        case .tooLarge(let name, let bytes):
            "the npz export would hold \(bytes) bytes at \(name); the npz writer stops at 4 GiB (export fewer runs or use JSON)"
        case .duplicateName(let name): "two arrays named \(name) in one npz export"
        }
    }
}

/// A NumPy `.npz` archive: a ZIP of `.npy` files, stored without compression (what `np.savez`
/// writes, which `np.load` reads). Arrays keep the order they were added in.
public struct NPZArchive: Sendable {
    /// Name (without `.npy`) and array, in order.
    public private(set) var arrays: [(name: String, array: NPYArray)] = []

    public init() {}

    /// Adds an array named `name` (`np.load(f)[name]`).
    public mutating func add(_ name: String, _ array: NPYArray) throws(NPZError) {
        if arrays.contains(where: { $0.name == name }) { throw .duplicateName(name) }
        arrays.append((name, array))
    }

    /// The archive's bytes.
    public func data() throws(NPZError) -> Data {
        var out = Data()
        var central = Data()
        for (name, array) in arrays {
            let file = array.npy()
            let fileName = Data((name + ".npy").utf8)
            let offset = out.count
            guard file.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF else { throw .tooLarge(name: name, bytes: offset + file.count) }
            let crc = CRC32.checksum(file)
            // Local file header: version 2.0, no flags, stored, no time (1980-01-01).
            out.le32(0x0403_4B50)
            out.le16(20); out.le16(0); out.le16(0); out.le16(0); out.le16(0x21)
            out.le32(crc); out.le32(UInt32(file.count)); out.le32(UInt32(file.count))
            out.le16(UInt16(fileName.count)); out.le16(0)
            out.append(fileName)
            out.append(file)
            // Its central directory entry.
            central.le32(0x0201_4B50)
            central.le16(20); central.le16(20); central.le16(0); central.le16(0); central.le16(0); central.le16(0x21)
            central.le32(crc); central.le32(UInt32(file.count)); central.le32(UInt32(file.count))
            central.le16(UInt16(fileName.count)); central.le16(0); central.le16(0); central.le16(0); central.le16(0)
            central.le32(0); central.le32(UInt32(offset))
            central.append(fileName)
        }
        let centralOffset = out.count
        guard centralOffset < 0xFFFF_FFFF, arrays.count < 0xFFFF else {
            throw .tooLarge(name: "the central directory", bytes: centralOffset)
        }
        out.append(central)
        out.le32(0x0605_4B50)
        out.le16(0); out.le16(0); out.le16(UInt16(arrays.count)); out.le16(UInt16(arrays.count))
        out.le32(UInt32(central.count)); out.le32(UInt32(centralOffset)); out.le16(0)
        return out
    }
}

/// CRC-32 (IEEE 802.3, the ZIP checksum), table-driven.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        data.withUnsafeBytes { raw in
            for byte in raw { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

extension Data {
    fileprivate mutating func le16(_ v: UInt16) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    fileprivate mutating func le32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
