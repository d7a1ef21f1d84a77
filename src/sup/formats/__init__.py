"""Readers and validators of every file sup writes, torch-free: players import these.

One module per format (tokenizer, data directory, bundle manifest, registry) and
``schema.py``, the one source of the rules they share. See docs/ARCHITECTURE.md."""
