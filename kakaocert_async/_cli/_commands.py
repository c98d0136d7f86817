"""The service commands: ``request``, ``state``, ``wait`` and ``verify``, for each family.

The bare commands are the e-signature's (as they always were); ``esign``,
``identity`` and ``cms`` each group the same four for their family
(``kakaocert-async cms request ...``). Each reads the credentials from the
environment (:class:`Service`), prints its result on stdout (plain, or one JSON
object with ``--json``) and reports any failure as one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Protocol

import attrs

from kakaocert_async._arguments import seconds
from kakaocert_async._client import Client
from kakaocert_async._connection import ClientBase
from kakaocert_async._env import Variables
from kakaocert_async._errors import SignTimeout
from kakaocert_async._models import (
    CMSReceipt,
    CMSRequest,
    ESignRequest,
    ReceiptBase,
    RequestBase,
    StatusBase,
    VerificationBase,
    VerifyAuthReceipt,
    VerifyAuthRequest,
)

from . import _progress
from ._base import (
    CALL_CENTER_VAR,
    EXIT_EXPIRED,
    EXIT_OK,
    INTERRUPT_WAIT,
    KAKAOCERT,
    CommandError,
    Commands,
    Service,
    personal,
    revealed,
    run,
    shielded_request,
    shielded_verify,
    to_json,
    to_plain,
)
from ._progress import StatusLike

_ENV_HELP = """\
environment:
  KAKAOCERT_LINK_ID, KAKAOCERT_SECRET_KEY, KAKAOCERT_CLIENT_CODE   the credentials
  KAKAOCERT_API_URL, KAKAOCERT_AUTH_URL   other service URLs (a sandbox: the same URL in both)
"""
_EXIT_HELP = "exit status: 0 done, 1 error"
SHIELDED_EXIT_HELP = (
    "exit status: 0 done, 1 error, 4 interrupted before the answer came, the outcome"
    f" unknown\n(Ctrl+C waits up to {INTERRUPT_WAIT:g} s for the answer; Ctrl+C again stops"
    " at once)"
)
"""For ``request`` and ``verify``, which Ctrl+C does not cut off (see ``shielded``)."""
_WAIT_EXIT_HELP = "exit status: 0 signed, 2 expired, 3 timed out, 1 error"


@attrs.frozen(kw_only=True)
class Kind:
    """A family as the command line offers it: its words, flags and calls."""

    name: str
    """The command group: ``esign``, ``identity`` or ``cms``."""
    what: str
    """What a request asks, after "ask a receiver to"."""
    calls: tuple[str, str, str]
    """The official SDK's names of request, state and verify (shown in the help)."""
    request_class: Callable[..., RequestBase[Any]]
    """Builds the family's request model from keyword arguments."""
    app_to_app: bool
    signed_text_help: str
    token_required: bool = True
    extra_flags: tuple[tuple[str, str, str, str, bool], ...] = ()
    """``(flag, field, metavar, help, required)`` beyond the shared ones."""
    extra_title: str = ""
    request: Callable[[Client, str, Any, bool], Awaitable[ReceiptBase[Any, Any]]]
    state: Callable[[Client, str, str], Awaitable[StatusBase]]
    watch: Callable[[Client, str, str, float | None, float], AsyncGenerator[StatusBase, None]]
    verify: Callable[[Client, str, str, str | None], Awaitable[VerificationBase]]
    variables: Variables = KAKAOCERT
    client_class: type[ClientBase] = Client


class Polled(Protocol):
    """What ``state`` and ``wait`` need of a kind of receipt (2.x's :class:`Kind`, or
    Barocert's): where its service is, and how to read and watch its state."""

    @property
    def variables(self) -> Variables: ...
    @property
    def client_class(self) -> type[ClientBase]: ...
    @property
    def state(self) -> Callable[[Any, str, str], Awaitable[StatusLike]]: ...
    @property
    def watch(
        self,
    ) -> Callable[[Any, str, str, float | None, float], AsyncGenerator[StatusLike, None]]: ...


_CALL_CENTER_NAME = (
    "--call-center-name",
    "call_center_name",
    "NAME",
    "your call center's name, shown in the message",
    False,
)

ESIGN = Kind(
    name="esign",
    what="sign a text",
    calls=("RequestESign", "GetESignState", "VerifyESign"),
    request_class=ESignRequest,
    app_to_app=True,
    signed_text_help="the text the receiver signs (≤ 500)",
    request=lambda c, code, r, app: c.request_esign(code, r, app_to_app=app),
    state=lambda c, code, rid: c.get_esign_state(code, rid),
    watch=lambda c, code, rid, timeout, interval: c.watch_esign_state(
        code, rid, timeout=timeout, interval=interval
    ),
    verify=lambda c, code, rid, sig: c.verify_esign(code, rid, sig),
)
IDENTITY = Kind(
    name="identity",
    what="verify their identity (본인인증)",
    calls=("RequestVerifyAuth", "GetVerifyAuthState", "VerifyAuth"),
    request_class=VerifyAuthRequest,
    app_to_app=False,
    signed_text_help="the one-time text (a nonce) the receiver signs (≤ 500)",
    extra_flags=(_CALL_CENTER_NAME,),
    extra_title="identity verification",
    request=lambda c, code, r, app: c.request_verify_auth(code, r),
    state=lambda c, code, rid: c.get_verify_auth_state(code, rid),
    watch=lambda c, code, rid, timeout, interval: c.watch_state(
        code, VerifyAuthReceipt(receipt_id=rid), timeout=timeout, interval=interval
    ),
    verify=lambda c, code, rid, sig: c.verify_auth(code, rid),
)
CMS = Kind(
    name="cms",
    what="consent to automatic withdrawals, CMS 출금동의",
    calls=("RequestCMS", "GetCMSState", "VerifyCMS"),
    request_class=CMSRequest,
    app_to_app=True,
    signed_text_help="a text the receiver signs too (≤ 500; optional)",
    token_required=False,
    extra_flags=(
        ("--bank-account-name", "bank_account_name", "NAME", "the account holder (예금주명)", True),
        ("--bank-account-num", "bank_account_num", "NUMBER", "the account (may be masked)", True),
        ("--bank-code", "bank_code", "CODE", "the bank's code (은행코드), e.g. 004", True),
        ("--client-user-id", "client_user_id", "ID", "your payer number (납부자번호)", True),
    ),
    extra_title="the withdrawal (account holder, number and payer number never printed)",
    request=lambda c, code, r, app: c.request_cms(code, r, app_to_app=app),
    state=lambda c, code, rid: c.get_cms_state(code, rid),
    watch=lambda c, code, rid, timeout, interval: c.watch_state(
        code, CMSReceipt(receipt_id=rid), timeout=timeout, interval=interval
    ),
    verify=lambda c, code, rid, sig: c.verify_cms(code, rid, sig),
)
KINDS = (ESIGN, IDENTITY, CMS)
GROUP_HELP = {
    "esign": "e-signatures: request, state, wait, verify (the same as the bare commands)",
    "identity": "identity verification (본인인증): request, state, wait, verify",
    "cms": "CMS withdrawal consent (자동이체 출금동의): request, state, wait, verify",
}


def add_command(
    commands: Commands,
    name: str,
    *,
    summary: str,
    epilog: str = _EXIT_HELP,
    env_help: str = _ENV_HELP,
) -> argparse.ArgumentParser:
    """A service command's parser: its help, the environment it reads, ``--json``."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=summary[:1].upper() + summary[1:] + ".",
        epilog=f"{env_help}\n{epilog}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (snake_case field names)"
    )
    return parser


def add_parsers(commands: Commands) -> None:
    """Add ``request``, ``state``, ``wait`` and ``verify`` (e-sign), and the
    ``esign``, ``identity`` and ``cms`` groups of the same four, to ``commands``."""
    _add_family(commands, ESIGN)
    for kind in KINDS:
        group = commands.add_parser(
            kind.name,
            help=GROUP_HELP[kind.name],
            description=GROUP_HELP[kind.name][:1].upper() + GROUP_HELP[kind.name][1:] + ".",
        )
        actions = group.add_subparsers(dest="action", metavar="COMMAND", required=True)
        _add_family(actions, kind)


def _add_family(commands: Commands, kind: Kind) -> None:
    request_call, state_call, verify_call = kind.calls
    parser = add_command(
        commands, "request", summary=f"ask a receiver to {kind.what} ({request_call})"
    )
    shown = "App to App: and the tx_id on a second line" if kind.app_to_app else "one line"
    parser.epilog = (
        f"{_ENV_HELP}  {CALL_CENTER_VAR}   the default of --call-center\n\n"
        f"prints the receipt id ({shown})\n" + SHIELDED_EXIT_HELP
    )
    add = parser.add_argument
    receiver = parser.add_argument_group("the receiver (never printed)")
    receiver.add_argument("--name", type=personal, required=True, help="the receiver's name (≤ 20)")
    receiver.add_argument(
        "--phone", type=personal, required=True, help="mobile number, digits only: 01012341234"
    )
    receiver.add_argument(
        "--birthday", type=personal, required=True, help="date of birth, YYYYMMDD"
    )
    add("--title", required=True, help="the request's title, shown as 요청구분 (≤ 40)")
    add("--token", required=kind.token_required, help=kind.signed_text_help)
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
    if kind.extra_flags:
        own = parser.add_argument_group(kind.extra_title)
        for flag, field, metavar, help_text, required in kind.extra_flags:
            own.add_argument(
                flag, dest=field, metavar=metavar, required=required, help=help_text, type=personal
            )
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
    if kind.app_to_app:
        add(
            "--app-to-app",
            action="store_true",
            help="App to App: no KakaoTalk message; prints a tx_id for your app",
        )
    parser.set_defaults(run=run_request, kind=kind)

    add_state_and_wait(commands, kind, state_call)

    parser = add_command(
        commands,
        "verify",
        summary=f"verify a signed request and print its signed data, once ({verify_call})",
        epilog=SHIELDED_EXIT_HELP,
    )
    add = parser.add_argument
    add("receipt_id", metavar="ID", help="the receipt id")
    if kind.app_to_app:
        add(
            "--signature",
            metavar="S",
            help="App to App: the signature your app got from KakaoTalk",
        )
    parser.set_defaults(run=run_verify, kind=kind)


def add_state_and_wait(
    commands: Commands,
    kind: Polled,
    state_call: str,
    *,
    env_help: str = _ENV_HELP,
    wait_summary: str = "wait until a request is signed or expires, showing progress",
    wait_exit_help: str = _WAIT_EXIT_HELP,
) -> None:
    """Add ``state ID`` and ``wait ID`` for ``kind`` to ``commands``."""
    parser = add_command(
        commands,
        "state",
        summary=f"read the state of a request ({state_call})",
        env_help=env_help,
    )
    parser.add_argument("receipt_id", metavar="ID", help="the receipt id")
    parser.set_defaults(run=run_state, kind=kind)

    parser = add_command(
        commands, "wait", summary=wait_summary, epilog=wait_exit_help, env_help=env_help
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
    parser.set_defaults(run=run_wait, kind=kind)


# request -------------------------------------------------------------------------


def build_request(args: argparse.Namespace) -> RequestBase[Any]:
    """The request model of the flags' family; raises the SDK's ``ValidationError``."""
    kind: Kind = getattr(args, "kind", ESIGN)
    call_center = args.call_center or os.environ.get(CALL_CENTER_VAR, "").strip()
    if not call_center:
        raise CommandError(
            f"--call-center is required (your customer-service number), or set {CALL_CENTER_VAR}"
        )
    return kind.request_class(
        call_center_num=call_center,
        expires_in=args.expires_in,
        receiver_birthday=args.birthday.reveal(),
        receiver_hp=args.phone.reveal(),
        receiver_name=args.name.reveal(),
        token=args.token,
        tms_title=args.title,
        allow_simple_regist=args.allow_simple_regist,
        verify_name=args.verify_name,
        tms_message=args.message,
        sub_client_id=args.sub_client_id,
        payload=args.payload,
        **{field: revealed(getattr(args, field)) for _, field, _, _, _ in kind.extra_flags},
    )


def run_request(args: argparse.Namespace) -> int:
    kind: Kind = args.kind

    async def command() -> int:
        request = build_request(args)  # checked before anything else: nothing is sent
        service = Service.from_env()
        async with service.client() as client:
            app_to_app = bool(getattr(args, "app_to_app", False))
            receipt = await shielded_request(
                kind.request(client, service.client_code, request, app_to_app), group=kind.name
            )
        if args.json:
            print(to_json(receipt))
        else:
            print(receipt.receipt_id)
            tx_id = getattr(receipt, "tx_id", None)
            if tx_id is not None:
                print(tx_id)
        return EXIT_OK

    return run(command)


# state -----------------------------------------------------------------------------


def format_status(status: object) -> str:
    """The fields of a state that are set, one ``name  value`` line each."""
    fields = {k: v for k, v in to_plain(status).items() if v is not None}
    width = max(map(len, fields))
    return "\n".join(f"{name:<{width}}  {value}" for name, value in fields.items())


def run_state(args: argparse.Namespace) -> int:
    kind: Polled = args.kind

    async def command() -> int:
        service = Service.from_env(variables=kind.variables)
        async with service.client(kind.client_class) as client:
            status = await kind.state(client, service.client_code, args.receipt_id)
        print(to_json(status) if args.json else format_status(status))
        return EXIT_OK

    return run(command)


# wait ------------------------------------------------------------------------------


def run_wait(args: argparse.Namespace) -> int:
    kind: Polled = args.kind

    async def command() -> int:
        service = Service.from_env(variables=kind.variables)
        last: StatusLike | None = None
        progress = _progress.progress_for(
            sys.stderr, quiet=args.quiet, label=f"{args.receipt_id}  "
        )
        async with service.client(kind.client_class) as client:
            states = kind.watch(
                client, service.client_code, args.receipt_id, args.timeout, args.interval
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
        return EXIT_OK if _progress.signed(last) else EXIT_EXPIRED

    return run(command)


# verify ----------------------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    kind: Kind = args.kind

    async def command() -> int:
        service = Service.from_env()
        async with service.client() as client:
            signature = getattr(args, "signature", None)
            verification = await shielded_verify(
                kind.verify(client, service.client_code, args.receipt_id, signature),
                args.receipt_id,
                group=kind.name,
            )
        print(to_json(verification) if args.json else verification.signed_data)
        return EXIT_OK

    return run(command)
