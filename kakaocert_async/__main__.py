"""The command line, ``kakaocert-async COMMAND`` (also ``python -m kakaocert_async``).

Commands: ``request``, ``state``, ``wait`` and ``verify`` call the service with
the credentials of the ``KAKAOCERT_*`` environment variables (e-signatures; the
same four for each family under ``esign``, ``identity`` and ``cms``, and for
Barocert's kinds under ``barocert``, with ``BAROCERT_*``); ``demo`` runs a
whole signature on the in-process sandbox (or ``--live``); ``sandbox`` serves the
sandbox on a port. Each command is a subparser that sets ``run(args) -> int``; the
commands live in ``kakaocert_async._cli``.

Exit status: 0 done (signed, for ``wait`` and ``demo``), 2 expired, 3 timed out,
1 any other error (bad arguments included), with one line on stderr; 130 Ctrl+C,
and 4 Ctrl+C while a verify or request was in flight and its answer did not come
(the outcome unknown). See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import cast

from kakaocert_async import _cli
from kakaocert_async._version import __version__
from kakaocert_async.sandbox import _cli as sandbox_cli


def build_parser() -> argparse.ArgumentParser:
    parser = _cli.Parser(
        prog=_cli.PROG,
        description=(
            "KakaoCert e-signatures, identity verification and CMS withdrawal consents from"
            " the command line, Barocert's too (kakaocert-async barocert), and a local sandbox."
        ),
        epilog=(
            "exit status: 0 done (wait, demo: signed), 2 expired, 3 timed out, 1 error,\n"
            "130 interrupted, 4 interrupted during a verify or request whose answer did not"
            " come.\n"
            "Credentials come from KAKAOCERT_LINK_ID, KAKAOCERT_SECRET_KEY and"
            " KAKAOCERT_CLIENT_CODE\n(barocert: BAROCERT_*, falling back to those);"
            " see COMMAND --help, and docs/cli.md."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = cast(
        _cli.Commands, parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    )
    _cli.add_parsers(commands)
    _cli.add_demo(commands)
    sandbox_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status.

    Bad arguments print one line and raise ``SystemExit(1)``, as ``--help`` and
    ``--version`` raise ``SystemExit(0)``.
    """
    args = build_parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
