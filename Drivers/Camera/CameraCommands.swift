import PNNLink
import PNNWire

/// The `camera` family's command set (frame types 0x80–0x8A), shared by the host driver and
/// the emulator. docs/protocol.md §16 is the normative text; `schemaText` is its canonical
/// summary and its CRC-32 is the schema hash exchanged in the hello.
///
/// Features carry GenICam names (SFNC): ExposureTime (µs), Gain (dB), OffsetX/OffsetY/Width/
/// Height (the ROI, sensor pixels), PixelFormat, TriggerMode, TriggerSource, TriggerDelay (µs);
/// TriggerSoftware,
/// AcquisitionStart and AcquisitionStop are commands. A grabbed frame's pixels travel device
/// → host as `bulkChunk` frames with flags `bulk | stream` (CRC-32, §11), pushed before the
/// `grab` reply that describes the frame; missing ranges are asked for again with `resend`.
public enum CameraCommand {
    /// The hello descriptor again (sensor, formats, trigger sources, safe ranges).
    public static let info = FrameType(rawValue: 0x80)
    /// Read one feature: id u8 → value f64.
    public static let getFeature = FrameType(rawValue: 0x81)
    /// Write one feature: id u8, value f64 → the value applied, f64.
    public static let setFeature = FrameType(rawValue: 0x82)
    /// AcquisitionStart.
    public static let acquisitionStart = FrameType(rawValue: 0x83)
    /// AcquisitionStop (drops buffered frames).
    public static let acquisitionStop = FrameType(rawValue: 0x84)
    /// TriggerSoftware: one exposure starts now (TriggerMode On, TriggerSource Software).
    public static let triggerSoftware = FrameType(rawValue: 0x85)
    /// Grab the oldest buffered frame, waiting up to a timeout for one.
    public static let grab = FrameType(rawValue: 0x86)
    /// Push a byte range of the last grabbed frame again.
    public static let resend = FrameType(rawValue: 0x87)
    /// Drop every buffered frame.
    public static let flush = FrameType(rawValue: 0x88)
    /// Counters and modes.
    public static let status = FrameType(rawValue: 0x89)
    /// Stop acquisition, drop buffers, TriggerMode Off.
    public static let safeState = FrameType(rawValue: 0x8A)

    public static let all: [(FrameType, String)] = [
        (info, "info"), (getFeature, "getFeature"), (setFeature, "setFeature"), (acquisitionStart, "acquisitionStart"),
        (acquisitionStop, "acquisitionStop"), (triggerSoftware, "triggerSoftware"), (grab, "grab"), (resend, "resend"),
        (flush, "flush"), (status, "status"), (safeState, "safeState"),
    ]

    /// The human name of a camera command type.
    public static func name(of type: FrameType) -> String { all.first { $0.0 == type }?.1 ?? "\(type)" }

    /// Family error code: no frame arrived within the grab's timeout.
    public static let grabTimeout = WireErrorCode(rawValue: 0x0300)
    /// Family error code: grab or TriggerSoftware while acquisition is stopped, or
    /// TriggerSoftware when the trigger is not software.
    public static let notAcquiring = WireErrorCode(rawValue: 0x0301)
    /// Family error code: `resend` of a transfer the camera no longer holds.
    public static let noFrame = WireErrorCode(rawValue: 0x0302)
    /// Family error code: ROI or PixelFormat written while acquiring (GenICam locks them).
    public static let locked = WireErrorCode(rawValue: 0x0303)

    /// Data bytes per pushed chunk.
    public static let chunkBytes = 4096

    public static let schemaText = """
        pnnlab camera command set v1; f64 = binary64 LE; u64 = two u32 LE (low first); exposure µs, gain dB, times s
        descriptor: sensorWidth u16, sensorHeight u16, bits u8, formats u8 (bit0 Mono8, bit1 Mono12, bit2 Mono16), sources u8 (bit0 Software, bit1 Line1), buffers u8, exposureMin f64, exposureMax f64, gainMin f64, gainMax f64
        features: 0 ExposureTime, 1 Gain, 2 OffsetX, 3 OffsetY, 4 Width, 5 Height, 6 PixelFormat (0 Mono8, 1 Mono12, 2 Mono16), 7 TriggerMode (0 Off, 1 On), 8 TriggerSource (0 Software, 1 Line1), 9 TriggerDelay (µs, 0…1e6)
        0x80 info: - -> descriptor
        0x81 getFeature: id u8 -> value f64
        0x82 setFeature: id u8, value f64 -> value f64
        0x83 acquisitionStart: - -> -
        0x84 acquisitionStop: - -> -
        0x85 triggerSoftware: - -> frameID u64
        0x86 grab: timeout f64, transferID u16 -> frameID u64, timestamp u64 µs, offsetX u16, offsetY u16, width u16, height u16, format u8, total u32, crc u32; pixels pushed first as bulkChunk (bulk|stream)
        0x87 resend: transferID u16, offset u32, count u32 -> -; chunks pushed first
        0x88 flush: - -> dropped u16
        0x89 status: - -> violations u32, frames u32, buffered u8, acquiring u8, triggerMode u8, triggerSource u8, dropped u32
        0x8A safeState: - -> -
        errors: 0x0300 grabTimeout, 0x0301 notAcquiring, 0x0302 noFrame, 0x0303 locked
        """

    /// CRC-32 of ``schemaText``.
    public static let schemaHash: UInt32 = CRC32.checksum(Array(schemaText.utf8))
}

/// A camera feature by its GenICam (SFNC) name; the raw value is its id on the wire.
public enum CameraFeature: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case exposureTime = 0
    case gain = 1
    case offsetX = 2
    case offsetY = 3
    case width = 4
    case height = 5
    case pixelFormat = 6
    case triggerMode = 7
    case triggerSource = 8
    /// Delay from a trigger (software or line) to the start of the exposure, µs.
    case triggerDelay = 9

    /// The GenICam name.
    public var description: String {
        switch self {
        case .exposureTime: "ExposureTime"
        case .gain: "Gain"
        case .offsetX: "OffsetX"
        case .offsetY: "OffsetY"
        case .width: "Width"
        case .height: "Height"
        case .pixelFormat: "PixelFormat"
        case .triggerMode: "TriggerMode"
        case .triggerSource: "TriggerSource"
        case .triggerDelay: "TriggerDelay"
        }
    }

    /// Whether GenICam locks the feature while acquiring (the ROI and the pixel format).
    public var lockedWhileAcquiring: Bool {
        switch self {
        case .offsetX, .offsetY, .width, .height, .pixelFormat: true
        default: false
        }
    }
}

/// GenICam pixel formats the camera may offer: one byte per pixel, or 12/16 bits in a
/// little-endian u16.
public enum PixelFormat: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case mono8 = 0
    case mono12 = 1
    case mono16 = 2

    /// Bytes per pixel on the wire.
    public var bytesPerPixel: Int { self == .mono8 ? 1 : 2 }
    /// Significant bits.
    public var bits: Int {
        switch self {
        case .mono8: 8
        case .mono12: 12
        case .mono16: 16
        }
    }

    public var description: String {
        switch self {
        case .mono8: "Mono8"
        case .mono12: "Mono12"
        case .mono16: "Mono16"
        }
    }

    /// Encodes sensor values of `sensorBits` bits into this format (shifted to its bit depth).
    public func encode(_ dn: [Double], sensorBits: Int) -> [UInt8] {
        let shift = bits - sensorBits
        let top = Double((1 << bits) - 1)
        var out = [UInt8]()
        out.reserveCapacity(dn.count * bytesPerPixel)
        for v in dn {
            let scaled = shift >= 0 ? v * Double(1 << shift) : v / Double(1 << -shift)
            let q = UInt16(min(max(scaled.rounded(.down), 0), top))
            out.append(UInt8(truncatingIfNeeded: q))
            if bytesPerPixel == 2 { out.append(UInt8(truncatingIfNeeded: q >> 8)) }
        }
        return out
    }

    /// Pixel values of a frame's bytes (in this format's units).
    public func decode(_ bytes: [UInt8]) -> [Double] {
        if bytesPerPixel == 1 { return bytes.map(Double.init) }
        return stride(from: 0, to: bytes.count - 1, by: 2).map { Double(UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8) }
    }
}

/// What a camera declares in its hello: the sensor, the pixel formats and trigger sources
/// it offers, its frame buffers, and the safe ranges of exposure and gain.
public struct CameraInfo: Sendable, Equatable {
    /// Longest TriggerDelay, µs (1 s).
    public static let maxTriggerDelay = 1_000_000.0

    public var sensorWidth: Int
    public var sensorHeight: Int
    /// ADC bits.
    public var bits: Int
    public var formats: Set<PixelFormat>
    public var softwareTrigger: Bool
    public var lineTrigger: Bool
    /// Frames the camera can buffer before it drops new ones.
    public var buffers: Int
    /// ExposureTime safe range, µs.
    public var exposure: ClosedRange<Double>
    /// Gain safe range, dB.
    public var gain: ClosedRange<Double>

    public init(
        sensorWidth: Int, sensorHeight: Int, bits: Int, formats: Set<PixelFormat>, softwareTrigger: Bool = true,
        lineTrigger: Bool, buffers: Int = 4, exposure: ClosedRange<Double> = 10...100_000, gain: ClosedRange<Double> = 0...24
    ) {
        self.sensorWidth = sensorWidth
        self.sensorHeight = sensorHeight
        self.bits = bits
        self.formats = formats
        self.softwareTrigger = softwareTrigger
        self.lineTrigger = lineTrigger
        self.buffers = buffers
        self.exposure = exposure
        self.gain = gain
    }

    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(sensorWidth))
        w.u16(UInt16(sensorHeight))
        w.u8(UInt8(bits))
        w.u8(formats.reduce(0) { $0 | 1 << $1.rawValue })
        w.u8((softwareTrigger ? 1 : 0) | (lineTrigger ? 2 : 0))
        w.u8(UInt8(buffers))
        w.f64(exposure.lowerBound)
        w.f64(exposure.upperBound)
        w.f64(gain.lowerBound)
        w.f64(gain.upperBound)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> CameraInfo {
        var r = PayloadReader(bytes)
        let w = Int(try r.u16("sensorWidth"))
        let h = Int(try r.u16("sensorHeight"))
        let bits = Int(try r.u8("bits"))
        let f = try r.u8("formats")
        let s = try r.u8("sources")
        let buffers = Int(try r.u8("buffers"))
        let e0 = try r.f64("exposureMin")
        let e1 = try r.f64("exposureMax")
        let g0 = try r.f64("gainMin")
        let g1 = try r.f64("gainMax")
        try r.expectEnd()
        guard w >= 1, h >= 1, (1...16).contains(bits), buffers >= 1, e0.isFinite, e1.isFinite, e0 > 0, e0 <= e1,
            g0.isFinite, g1.isFinite, g0 <= g1
        else {
            throw .invalidValue(
                field: "descriptor", reason: "a camera needs ≥ 1 pixel, 1–16 bits, ≥ 1 buffer and ordered finite ranges")
        }
        return CameraInfo(
            sensorWidth: w, sensorHeight: h, bits: bits,
            formats: Set(PixelFormat.allCases.filter { f & (1 << $0.rawValue) != 0 }),
            softwareTrigger: s & 1 != 0, lineTrigger: s & 2 != 0, buffers: buffers, exposure: e0...e1, gain: g0...g1)
    }

    /// The safe range of a feature (enumerations: their codes; the ROI: the sensor).
    public func range(of feature: CameraFeature) -> ClosedRange<Double> {
        switch feature {
        case .exposureTime: exposure
        case .gain: gain
        case .offsetX: 0...Double(sensorWidth - 1)
        case .offsetY: 0...Double(sensorHeight - 1)
        case .width: 1...Double(sensorWidth)
        case .height: 1...Double(sensorHeight)
        case .pixelFormat: 0...2
        case .triggerMode: 0...1
        case .triggerSource: 0...1
        case .triggerDelay: 0...CameraInfo.maxTriggerDelay
        }
    }
}

/// What the camera says about a grabbed frame (the `grab` reply): its counter, when its
/// exposure started, its ROI, format, and the size and CRC-32 of its pixel bytes.
public struct CameraFrameInfo: Sendable, Equatable {
    public var frameID: UInt64
    /// Exposure start, µs of the camera's clock.
    public var timestamp: UInt64
    public var offsetX: Int
    public var offsetY: Int
    public var width: Int
    public var height: Int
    public var format: PixelFormat
    /// Pixel bytes pushed (width · height · bytes per pixel).
    public var total: Int
    /// CRC-32 of the pixel bytes.
    public var crc: UInt32

    public init(
        frameID: UInt64, timestamp: UInt64, offsetX: Int, offsetY: Int, width: Int, height: Int, format: PixelFormat,
        total: Int, crc: UInt32
    ) {
        self.frameID = frameID
        self.timestamp = timestamp
        self.offsetX = offsetX
        self.offsetY = offsetY
        self.width = width
        self.height = height
        self.format = format
        self.total = total
        self.crc = crc
    }

    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u64(frameID)
        w.u64(timestamp)
        w.u16(UInt16(offsetX))
        w.u16(UInt16(offsetY))
        w.u16(UInt16(width))
        w.u16(UInt16(height))
        w.u8(format.rawValue)
        w.u32(UInt32(total))
        w.u32(crc)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> CameraFrameInfo {
        var r = PayloadReader(bytes)
        let id = try r.u64("frameID")
        let ts = try r.u64("timestamp")
        let x = Int(try r.u16("offsetX"))
        let y = Int(try r.u16("offsetY"))
        let w = Int(try r.u16("width"))
        let h = Int(try r.u16("height"))
        let f = try r.u8("format")
        let total = Int(try r.u32("total"))
        let crc = try r.u32("crc")
        try r.expectEnd()
        guard let format = PixelFormat(rawValue: f) else {
            throw .invalidValue(field: "format", reason: "pixel format \(f) is not Mono8 (0), Mono12 (1) or Mono16 (2)")
        }
        guard total == w * h * format.bytesPerPixel else {
            throw .invalidValue(field: "total", reason: "\(total) bytes for \(w)×\(h) pixels of \(format)")
        }
        return CameraFrameInfo(
            frameID: id, timestamp: ts, offsetX: x, offsetY: y, width: w, height: h, format: format, total: total, crc: crc)
    }
}

/// The camera's counters and modes (reply to `status`).
public struct CameraStatus: Sendable, Equatable {
    public var violations: UInt32
    /// Frames exposed since power-up.
    public var frames: UInt32
    public var buffered: Int
    public var acquiring: Bool
    public var triggerMode: Bool
    /// 0 Software, 1 Line1.
    public var triggerSource: UInt8
    /// Frames dropped because every buffer was full.
    public var dropped: UInt32

    public init(
        violations: UInt32, frames: UInt32, buffered: Int, acquiring: Bool, triggerMode: Bool, triggerSource: UInt8,
        dropped: UInt32
    ) {
        self.violations = violations
        self.frames = frames
        self.buffered = buffered
        self.acquiring = acquiring
        self.triggerMode = triggerMode
        self.triggerSource = triggerSource
        self.dropped = dropped
    }

    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u32(violations)
        w.u32(frames)
        w.u8(UInt8(min(buffered, 255)))
        w.u8(acquiring ? 1 : 0)
        w.u8(triggerMode ? 1 : 0)
        w.u8(triggerSource)
        w.u32(dropped)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> CameraStatus {
        var r = PayloadReader(bytes)
        let s = CameraStatus(
            violations: try r.u32("violations"), frames: try r.u32("frames"), buffered: Int(try r.u8("buffered")),
            acquiring: try r.u8("acquiring") != 0, triggerMode: try r.u8("triggerMode") != 0,
            triggerSource: try r.u8("triggerSource"), dropped: try r.u32("dropped"))
        try r.expectEnd()
        return s
    }
}

extension PayloadWriter {
    /// Appends a u64 as two u32 LE (low first) — little-endian u64.
    public mutating func u64(_ v: UInt64) {
        u32(UInt32(truncatingIfNeeded: v))
        u32(UInt32(truncatingIfNeeded: v >> 32))
    }
}

extension PayloadReader {
    /// Reads a little-endian u64.
    public mutating func u64(_ field: String) throws(PayloadError) -> UInt64 {
        let lo = UInt64(try u32(field))
        let hi = UInt64(try u32(field))
        return lo | hi << 32
    }
}
