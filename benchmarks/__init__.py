"""Benchmarks of kakaocert_async: scripts that print figures, never timed test assertions.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``); ``--smoke`` runs
tiny sizes in seconds, as CI does so the scripts never rot; ``--readme`` prints
the performance tables (docs/performance.md) from the last full run.

- :mod:`benchmarks.side_by_side`: the SDK's ``Client`` next to the official SDK
  and raw clients, each in its own process (:mod:`benchmarks.clients`), against
  a canned server (:mod:`benchmarks.canned`);
- :mod:`benchmarks.served_sandbox`: the served sandbox's CPU per state call (a figure,
  not a target);
- :mod:`benchmarks.overhead`, :mod:`benchmarks.scale`, :mod:`benchmarks.latency`:
  the SDK's own work per call, 10,000 concurrent waits, detection latency.

A new benchmark is a module with a ``run(**sizes)`` returning figures (or a
coroutine of them) and one entry in ``benchmarks.run.BENCHMARKS``.
"""
