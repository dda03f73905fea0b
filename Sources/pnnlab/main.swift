print("pnnlab")
