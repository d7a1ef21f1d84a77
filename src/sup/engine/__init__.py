"""The PyTorch engine: corpus, vocabulary, data, model, training, evaluation and
generation. See docs/ARCHITECTURE.md for how the modules fit."""
