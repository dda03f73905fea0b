// pnnlab — the command line. Everything lives in PNNLabCLI; this file only starts it.
import PNNLabCLI

await PNNLabCLI.main()
