import PNNCore
