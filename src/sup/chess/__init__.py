"""Chess for the daydream instruments, torch-free: the engine spoken to over UCI
(``engine.py``) and the three board tiers (``tiers.py``). The models never see the
rules; the engine is the referee, the opponent and the source of self-play games."""
