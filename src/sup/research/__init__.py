"""``sup research``: an experiment loop that keeps only real wins.

A study freezes its harness once (data, base config, wall-clock budget, evaluation
windows: ``study.py``); every experiment trains in a subprocess for that same budget
(``experiment.py``) and is scored here on the same windows; it is kept only if it beats
the current best by more than twice the baseline's seed noise and also beats it on a
hidden holdout (``ledger.py``). Proposals come from ``propose.py`` (random, local, or an
OpenAI-compatible model through ``ask.py``); ``loop.py`` runs the loop, resumable from
the ledger; ``chart.py`` draws it.
"""
