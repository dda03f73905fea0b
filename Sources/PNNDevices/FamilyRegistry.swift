import Foundation
import PNNCore
import PNNLink
import Synchronization

/// The set of families a process knows: the built-in ones plus any registered at start-up
/// (an out-of-tree or test-only family calls `register` before running a command). Every
/// generic path — connect, emulate, conformance, `sim:` twins, calibration — looks
/// families up here and nowhere else.
public struct FamilyRegistry: Sendable {
    /// The families, in listing order.
    public var families: [any DeviceFamilyDriver.Type]

    public init(families: [any DeviceFamilyDriver.Type]) {
        self.families = families
    }

    private static let extra = Mutex<[any DeviceFamilyDriver.Type]>([])

    /// Adds a family for the rest of the process (test-only and out-of-tree families).
    public static func register(_ family: any DeviceFamilyDriver.Type) {
        extra.withLock { list in
            if !list.contains(where: { $0.family == family.family }) { list.append(family) }
        }
    }

    /// The built-in families and every registered one.
    public static var standard: FamilyRegistry {
        FamilyRegistry(families: DeviceFamilies.builtIn + extra.withLock { $0 })
    }

    /// Family names, for messages.
    public var names: [String] { families.map { $0.family } }

    /// The entry for `family`, if known.
    public func family(named family: String) -> (any DeviceFamilyDriver.Type)? {
        families.first { $0.family == family }
    }

    /// Every `sim:` twin with its family.
    public var twins: [(family: any DeviceFamilyDriver.Type, entry: TwinEntry)] {
        families.flatMap { f in f.twins.map { (f, $0) } }
    }

    /// The twin called `name` (`sim:crossbar`).
    public func twin(named name: String) -> (family: any DeviceFamilyDriver.Type, entry: TwinEntry)? {
        twins.first { $0.entry.name == name }
    }

    /// Every `sim:` name, for messages and help.
    public var twinNames: [String] { twins.map(\.entry.name) }
}
