import CZlib
import Foundation
import PNNCore

/// One IDX array (the MNIST file format): unsigned bytes with 1–4 dimensions.
public struct IDXArray: Sendable, Equatable {
    /// Sizes, outermost first (e.g. [60000, 28, 28]).
    public var dimensions: [Int]
    /// The values, row-major.
    public var bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// Values per outermost entry (28·28 for an image file, 1 for a label file).
    public var itemSize: Int { dimensions.dropFirst().reduce(1, *) }
}

/// Reads IDX files, gzip-compressed or plain (zlib reads both), with bounded reads: the
/// header is read and checked — magic, element type (unsigned byte only), 1–4 dimensions,
/// each ≥ 1, product within `maxElements` — before anything is allocated for the data, and
/// the data must be exactly as long as the header says.
public enum IDXReader {
    /// Largest array read by default (Fashion-MNIST's training images are 47 040 000 bytes).
    public static let defaultMaxElements = 64 << 20

    /// Reads the IDX array at `path`; `dataset` names it in errors.
    public static func read(path: String, dataset: String, maxElements: Int = defaultMaxElements) throws(DatasetError)
        -> IDXArray
    {
        func fail(_ why: String) -> DatasetError { .unavailable(dataset: dataset, reason: "\(path): \(why)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw fail("no such file") }
        guard !isDirectory.boolValue else { throw fail("it is a directory") }
        guard let file = gzopen(path, "rb") else { throw fail("cannot open (permission denied?)") }
        defer { gzclose(file) }
        func readExactly(_ count: Int, into buffer: UnsafeMutableRawPointer) -> Int {
            var done = 0
            while done < count {
                let want = UInt32(min(count - done, 1 << 24))
                let got = gzread(file, buffer + done, want)
                if got <= 0 { break }
                done += Int(got)
            }
            return done
        }
        var header = [UInt8](repeating: 0, count: 4)
        guard header.withUnsafeMutableBytes({ readExactly(4, into: $0.baseAddress!) }) == 4 else {
            throw fail("truncated: shorter than the 4-byte IDX magic")
        }
        guard header[0] == 0, header[1] == 0 else { throw fail("not an IDX file (magic \(hex(header)))") }
        guard header[2] == 0x08 else {
            throw fail("element type 0x\(String(header[2], radix: 16)) is not unsigned byte (0x08)")
        }
        let rank = Int(header[3])
        guard (1...4).contains(rank) else { throw fail("\(rank) dimensions; expected 1 to 4") }
        var sizeBytes = [UInt8](repeating: 0, count: 4 * rank)
        guard sizeBytes.withUnsafeMutableBytes({ readExactly(4 * rank, into: $0.baseAddress!) }) == 4 * rank else {
            throw fail("truncated inside the header's dimension sizes")
        }
        var dimensions: [Int] = []
        var total = 1
        for d in 0..<rank {
            let size =
                Int(sizeBytes[4 * d]) << 24 | Int(sizeBytes[4 * d + 1]) << 16 | Int(sizeBytes[4 * d + 2]) << 8
                | Int(sizeBytes[4 * d + 3])
            guard size >= 1 else { throw fail("dimension \(d) has size 0") }
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxElements else {
                throw fail(
                    "the header declares more than \(maxElements) values (dimension \(d) is \(size)); refusing to allocate")
            }
            total = product
            dimensions.append(size)
        }
        var bytes = [UInt8](repeating: 0, count: total)
        let got = bytes.withUnsafeMutableBytes { readExactly(total, into: $0.baseAddress!) }
        var status: Int32 = 0
        let message = gzerror(file, &status).map { String(cString: $0) } ?? ""
        guard got == total else {
            let why = status < 0 && !message.isEmpty ? " (\(message))" : ""
            throw fail("truncated: the header declares \(total) values, the file holds \(got)\(why)")
        }
        var extra: UInt8 = 0
        guard gzread(file, &extra, 1) == 0 else { throw fail("trailing data after the \(total) declared values") }
        return IDXArray(dimensions: dimensions, bytes: bytes)
    }

    static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
}

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, MIT licence) as Debian's
/// `dataset-fashion-mnist` package installs it: 60 000 training and 10 000 test images of
/// 28×28 grey pixels (0–255), 10 classes of clothing.
public enum FashionMNIST {
    /// Where Debian's package puts the IDX files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// Class names in label order.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// The official training and test splits from `directory` (default: `PNNLAB_FASHION_MNIST_DIR`
    /// or Debian's location).
    public static func load(directory: String? = nil) throws(DatasetError) -> (train: Dataset, test: Dataset) {
        let dir = directory ?? ProcessInfo.processInfo.environment["PNNLAB_FASHION_MNIST_DIR"] ?? defaultDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .unavailable(
                dataset: "fashion-mnist",
                reason: "\(dir) not found; install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist)"
            )
        }
        return (
            try split(dir, images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte"),
            try split(dir, images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte")
        )
    }

    static func file(_ dir: String, _ base: String) -> String {
        let gz = "\(dir)/\(base).gz"
        return FileManager.default.fileExists(atPath: gz) ? gz : "\(dir)/\(base)"
    }

    static func split(_ dir: String, images: String, labels: String) throws(DatasetError) -> Dataset {
        let x = try IDXReader.read(path: file(dir, images), dataset: "fashion-mnist")
        let y = try IDXReader.read(path: file(dir, labels), dataset: "fashion-mnist")
        guard x.dimensions.count == 3, x.dimensions[1] == 28, x.dimensions[2] == 28 else {
            throw .unavailable(dataset: "fashion-mnist", reason: "\(images): images are \(x.dimensions), expected N×28×28")
        }
        guard y.dimensions == [x.dimensions[0]] else {
            throw .unavailable(
                dataset: "fashion-mnist", reason: "\(labels): \(y.dimensions) labels for \(x.dimensions[0]) images")
        }
        if let bad = y.bytes.first(where: { $0 > 9 }) {
            throw .unavailable(dataset: "fashion-mnist", reason: "\(labels): label \(bad) outside 0–9")
        }
        return Dataset(
            name: "fashion-mnist", features: Matrix(rows: x.dimensions[0], cols: 784, storage: x.bytes.map(Double.init)),
            labels: y.bytes.map(Int.init), classCount: 10, classNames: classNames)
    }
}
