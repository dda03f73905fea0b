/// A physical unit attached to a parameter, an input or an output channel.
///
/// pnnlab keeps numbers in the unit named here everywhere (descriptors, the store,
/// exports), so a value is never ambiguous between volts and millivolts.
public enum PhysicalUnit: String, Sendable, Codable, CaseIterable {
    case volt = "V"
    case millivolt = "mV"
    case ampere = "A"
    case microampere = "µA"
    case siemens = "S"
    case microsiemens = "µS"
    case second = "s"
    case millisecond = "ms"
    case radian = "rad"
    case greyLevel = "grey"
    case count = "count"
    case dimensionless = "1"

    /// The symbol used in tables and error messages.
    public var symbol: String { rawValue }
}
