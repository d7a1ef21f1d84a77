"""sup: a studio for training small language models from scratch and playing them."""

__version__ = "0.1.0"
