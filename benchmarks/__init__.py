"""Benchmarks of kakaocert_async: scripts that print figures, never timed test assertions.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``); ``--smoke`` runs
tiny sizes in seconds, as CI does so the scripts never rot.
"""
