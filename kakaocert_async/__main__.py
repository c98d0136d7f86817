"""``python -m kakaocert_async COMMAND``, also installed as ``kakaocert-async``.

The commands live in ``kakaocert_async._cli``; see ``docs/cli.md``.
"""

from __future__ import annotations

import sys

from ._cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
