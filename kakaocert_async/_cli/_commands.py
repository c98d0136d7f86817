"""The service commands: ``request``, ``state``, ``wait`` and ``verify``.

Each reads the credentials from the environment (:class:`Service`), prints its
result on stdout (plain, or one JSON object with ``--json``) and reports any
failure as one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from kakaocert_async._arguments import seconds
from kakaocert_async._errors import SignTimeout
from kakaocert_async._models import ESignRequest, ESignStatus, SignState

from . import _progress
from ._base import (
    CALL_CENTER_VAR,
    EXIT_EXPIRED,
    EXIT_OK,
    CommandError,
    Commands,
    Service,
    run,
    to_json,
    to_plain,
)

_ENV_HELP = """\
environment:
  KAKAOCERT_LINK_ID, KAKAOCERT_SECRET_KEY, KAKAOCERT_CLIENT_CODE   the credentials
  KAKAOCERT_API_URL, KAKAOCERT_AUTH_URL   other service URLs (a sandbox: the same URL in both)
"""
_EXIT_HELP = "exit status: 0 done, 1 error"
_WAIT_EXIT_HELP = "exit status: 0 signed, 2 expired, 3 timed out, 1 error"


def _add(
    commands: Commands, name: str, *, summary: str, epilog: str = _EXIT_HELP
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=summary[:1].upper() + summary[1:] + ".",
        epilog=f"{_ENV_HELP}\n{epilog}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (snake_case field names)"
    )
    return parser


def add_parsers(commands: Commands) -> None:
    """Add ``request``, ``state``, ``wait`` and ``verify`` to ``commands``."""
    parser = _add(commands, "request", summary="ask a receiver to sign a text (RequestESign)")
    parser.epilog = (
        f"{_ENV_HELP}  {CALL_CENTER_VAR}   the default of --call-center\n\n"
        "prints the receipt id (App to App: and the tx_id on a second line)\n" + _EXIT_HELP
    )
    add = parser.add_argument
    receiver = parser.add_argument_group("the receiver (never printed)")
    receiver.add_argument("--name", required=True, help="the receiver's name (≤ 20)")
    receiver.add_argument("--phone", required=True, help="mobile number, digits only: 01012341234")
    receiver.add_argument("--birthday", required=True, help="date of birth, YYYYMMDD")
    add("--title", required=True, help="the request's title, shown as 요청구분 (≤ 40)")
    add("--token", required=True, help="the text the receiver signs (≤ 500)")
    add(
        "--expires-in",
        type=int,
        default=300,
        metavar="S",
        help="seconds the receiver has to sign, 1..1000 (300)",
    )
    add("--message", help="extra text in the KakaoTalk message (≤ 500)")
    add("--payload", help="your memo, echoed back in the state (≤ 200)")
    add(
        "--call-center",
        default=None,
        metavar="NUMBER",
        help=f"your customer-service number, shown in the message (${CALL_CENTER_VAR})",
    )
    add("--sub-client-id", metavar="CODE", help="alias code (별칭코드, ≤ 12)")
    add(
        "--allow-simple-regist",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="allow a certificate issued on a phone check alone (no)",
    )
    add(
        "--verify-name",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="have the service check the name against the verified real name (yes)",
    )
    add(
        "--app-to-app",
        action="store_true",
        help="App to App: no KakaoTalk message; prints a tx_id for your app",
    )
    parser.set_defaults(run=run_request)

    parser = _add(commands, "state", summary="read the state of a request (GetESignState)")
    parser.add_argument("receipt_id", metavar="ID", help="the receipt id")
    parser.set_defaults(run=run_state)

    parser = _add(
        commands,
        "wait",
        summary="wait until a request is signed or expires, showing progress",
        epilog=_WAIT_EXIT_HELP,
    )
    add = parser.add_argument
    add("receipt_id", metavar="ID", help="the receipt id")
    add("--interval", type=seconds, default=2.0, metavar="S", help="seconds between polls (2)")
    add(
        "--timeout",
        type=seconds,
        default=None,
        metavar="S",
        help="give up after S seconds (default: a few seconds after the request expires)",
    )
    add("-q", "--quiet", action="store_true", help="no progress on stderr")
    parser.set_defaults(run=run_wait)

    parser = _add(
        commands,
        "verify",
        summary="verify a signed request and print its signed data, once (VerifyESign)",
    )
    add = parser.add_argument
    add("receipt_id", metavar="ID", help="the receipt id")
    add("--signature", metavar="S", help="App to App: the signature your app got from KakaoTalk")
    parser.set_defaults(run=run_verify)


# request -------------------------------------------------------------------------


def build_request(args: argparse.Namespace) -> ESignRequest:
    """The :class:`ESignRequest` of the flags; raises the SDK's ``ValidationError``."""
    call_center = args.call_center or os.environ.get(CALL_CENTER_VAR, "").strip()
    if not call_center:
        raise CommandError(
            f"--call-center is required (your customer-service number), or set {CALL_CENTER_VAR}"
        )
    return ESignRequest(
        call_center_num=call_center,
        expires_in=args.expires_in,
        receiver_birthday=args.birthday,
        receiver_hp=args.phone,
        receiver_name=args.name,
        token=args.token,
        tms_title=args.title,
        allow_simple_regist=args.allow_simple_regist,
        verify_name=args.verify_name,
        tms_message=args.message,
        sub_client_id=args.sub_client_id,
        payload=args.payload,
    )


def run_request(args: argparse.Namespace) -> int:
    async def command() -> int:
        request = build_request(args)  # checked before anything else: nothing is sent
        service = Service.from_env()
        async with service.client() as client:
            receipt = await client.request_esign(
                service.client_code, request, app_to_app=args.app_to_app
            )
        if args.json:
            print(to_json(receipt))
        else:
            print(receipt.receipt_id)
            if receipt.tx_id is not None:
                print(receipt.tx_id)
        return EXIT_OK

    return run(command)


# state -----------------------------------------------------------------------------


def format_status(status: ESignStatus) -> str:
    """The fields of a state that are set, one ``name  value`` line each."""
    fields = {k: v for k, v in to_plain(status).items() if v is not None}
    width = max(map(len, fields))
    return "\n".join(f"{name:<{width}}  {value}" for name, value in fields.items())


def run_state(args: argparse.Namespace) -> int:
    async def command() -> int:
        service = Service.from_env()
        async with service.client() as client:
            status = await client.get_esign_state(service.client_code, args.receipt_id)
        print(to_json(status) if args.json else format_status(status))
        return EXIT_OK

    return run(command)


# wait ------------------------------------------------------------------------------


def run_wait(args: argparse.Namespace) -> int:
    async def command() -> int:
        service = Service.from_env()
        last: ESignStatus | None = None
        progress = _progress.progress_for(
            sys.stderr, quiet=args.quiet, label=f"{args.receipt_id}  "
        )
        async with service.client() as client:
            states = client.watch_esign_state(
                service.client_code, args.receipt_id, timeout=args.timeout, interval=args.interval
            )
            try:
                with progress:
                    async with contextlib.aclosing(states):
                        async for last in states:
                            progress.update(last)
            except SignTimeout as exc:
                # Still pending: with --json, the last state read, for scripts.
                if args.json and exc.last_status is not None:
                    print(to_json(exc.last_status))
                raise
        assert last is not None
        print(to_json(last) if args.json else last.state.name.lower())
        return EXIT_OK if last.state is SignState.SIGNED else EXIT_EXPIRED

    return run(command)


# verify ----------------------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    async def command() -> int:
        service = Service.from_env()
        async with service.client() as client:
            verification = await client.verify_esign(
                service.client_code, args.receipt_id, args.signature
            )
        print(to_json(verification) if args.json else verification.signed_data)
        return EXIT_OK

    return run(command)
