"""From a trained run to something people can play: ONNX export with parity, int8,
model cards, releases, the registry writer and ``sup check``."""
