// `pnnlab` with the test-only loopback family registered: the CLI tests drive emulate,
// attach, conformance, train and calibrate of a family that lives in the test tree.
import LoopbackFamily
import PNNDevices
import PNNLabCLI

FamilyRegistry.register(LoopbackFamily.self)
await PNNLabCLI.main()
