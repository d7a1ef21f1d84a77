"""Instruments: recipes on top of the engine (a corpus, presets, a prompt contract, a
harness), never forks of it."""
