"""The command line, ``python -m kakaocert_async COMMAND`` (installed as ``kakaocert-async``).

Each command is a subparser that sets ``run(args) -> int``; add more with
another ``add_parser(commands)``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._version import __version__
from .sandbox import _cli as sandbox_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kakaocert-async",
        description="KakaoCert e-signatures from the command line, and a local sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sandbox_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (argparse exits with 2 on bad arguments)."""
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
