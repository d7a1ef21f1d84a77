"""The players, torch-free (numpy and onnxruntime): ONNX Runtime generation, the
sampling rule every player shares, the user cache and downloads, and ``sup serve``."""
