"""The ``demo`` command: request, await and verify one signature, showing each step.

On the in-process sandbox by default (it signs ``--sign-after`` seconds after the
request; no network, no credentials); with ``--live``, on the real service, with
the credentials from the environment and the receiver from the flags.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

from kakaocert_async._arguments import sign_after
from kakaocert_async._client import BoundClient, Client
from kakaocert_async._kinds import ESIGN
from kakaocert_async._models import ESignRequest, SignState
from kakaocert_async._secret import Secret
from kakaocert_async.sandbox._settings import DEFAULT_SIGN_AFTER

from . import (
    CALL_CENTER_VAR,
    EXIT_EXPIRED,
    EXIT_OK,
    RECEIVER,
    CommandError,
    Commands,
    _progress,
    add_polling,
    build_request,
    command,
    connected,
    env_help,
    flag_of,
    request_flags,
    revealed,
)

SANDBOX_INTERVAL = 0.5
LIVE_INTERVAL = 2.0
TITLE = "kakaocert-async 데모"
TOKEN = "kakaocert-async demo: 이 문장에 전자서명합니다."  # noqa: S105 -- the text signed
# The manual's example receiver; the sandbox sends no message to anyone.
SANDBOX_RECEIVER = {
    "receiver_name": Secret("홍길동"),
    "receiver_hp": Secret("01012341234"),
    "receiver_birthday": Secret("19900108"),
}
SANDBOX_CALL_CENTER = "1600-0000"


def add_parser(commands: Commands) -> None:
    """Add the ``demo`` subcommand to ``commands``: its own flags, and those of ``request``
    (none required: the sandbox has a receiver, and the demo a text to sign)."""
    parser = commands.add_parser(
        "demo",
        help="request, await and verify one signature, step by step (sandbox or --live)",
        description=(
            "Request a signature, wait for it with progress, verify it and print the signed\n"
            "data: on an in-process sandbox (no network, no credentials), or with --live on\n"
            "the real service."
        ),
        epilog=(
            f"{env_help(Client.variables)}  (read with --live, which needs --name, --phone,"
            f" --birthday and\n  --call-center or ${CALL_CENTER_VAR})\n\n"
            "exit status: 0 signed and verified, 2 expired, 3 timed out, 1 error"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--live",
        action="store_true",
        help="use the real service instead of the sandbox: a KakaoTalk message is sent",
    )
    add(
        "--sign-after",
        type=sign_after,
        default=DEFAULT_SIGN_AFTER,
        metavar="S",
        help=f"sandbox: seconds until the receiver signs, or 'never' ({DEFAULT_SIGN_AFTER:g})",
    )
    live = f"{SANDBOX_INTERVAL:g} on the sandbox, {LIVE_INTERVAL:g} live"
    add_polling(add, None, f"seconds between polls ({live})")
    receiver = parser.add_argument_group("the receiver (--live; never printed)")
    own = parser.add_argument_group("the request")
    defaults = {"tms_title": TITLE, "token": TOKEN}
    for flag in request_flags(ESignRequest):
        default = defaults.get(flag.field, flag.options.get("default"))
        flag.add(receiver if flag.field in RECEIVER else own, required=False, default=default)
    parser.set_defaults(run=run_demo, kind=ESIGN)


def _request(args: argparse.Namespace) -> ESignRequest:
    """The request of the flags: the sandbox's receiver and call center where none is given,
    but for ``--live``, which needs them."""
    missing = [flag_of(field) for field in RECEIVER if not revealed(getattr(args, field))]
    if args.live and missing:
        raise CommandError(
            f"demo --live needs the receiver's --name, --phone and --birthday"
            f" (missing: {', '.join(missing)})"
        )
    if not args.live:
        for field, value in SANDBOX_RECEIVER.items():
            setattr(args, field, getattr(args, field) or value)
        args.call_center_num = args.call_center_num or SANDBOX_CALL_CENTER
    request: ESignRequest = build_request(args)
    return request


@command
async def run_demo(args: argparse.Namespace) -> int:
    """The demo itself, on stdout; its exit status."""
    started = time.monotonic()
    rich = _progress.console(sys.stdout)
    arrow = " → " if rich is not None else " -> "

    def line(text: str, style: str | None = None) -> None:
        if rich is None:
            print(text, flush=True)
        else:
            rich.print(text, style=style, markup=False, highlight=False, soft_wrap=True)

    request = _request(args)  # checked first: nothing is sent if it is wrong
    async with contextlib.AsyncExitStack() as stack:
        client: BoundClient
        if args.live:
            client = await stack.enter_async_context(connected(Client))
            url, code = client._connection.base_url, client.client_code
            where = f"the service at {url} (client code {code})"
        else:
            from kakaocert_async.sandbox._sandbox import Sandbox, SandboxUnavailable, require_extra

            try:
                require_extra()
            except SandboxUnavailable as exc:
                raise CommandError(f"{exc} (or run the demo --live)") from None
            sandbox = await stack.enter_async_context(Sandbox(sign_after=args.sign_after))
            client = sandbox.client().for_client(sandbox.client_code)  # closed with the sandbox
            signs = (
                "never signs by itself"
                if args.sign_after is None
                else f"the receiver signs {args.sign_after:g} s after the request"
            )
            where = f"the in-process sandbox ({signs})"
        line(f"KakaoCert demo on {where}", style="bold")
        interval = args.interval or (LIVE_INTERVAL if args.live else SANDBOX_INTERVAL)

        receipt = await client.request_esign(request)
        line(f"1. request_esign {arrow}receipt_id {receipt.receipt_id}", style="cyan")

        line(f"2. await_signed   polling every {interval:g} s", style="cyan")
        states = client.watch_esign_state(
            receipt.receipt_id, interval=interval, timeout=args.timeout
        )
        progress = _progress.progress_for(sys.stdout, indent=3)
        first, last = await _progress.follow(states, progress)
        # Pending, then signed or expired: the first state read and the last.
        seen = dict.fromkeys(status.state.name.lower() for status in (first, last))
        line("   states seen: " + arrow.join(seen))
        if last.state is SignState.EXPIRED:
            line("The request expired before it was signed.", style="bold red")
            return EXIT_EXPIRED

        verification = await client.verify_esign(receipt.receipt_id)
        signed_data = verification.signed_data
        line(
            f"3. verify_esign  {arrow}signed_data ({len(signed_data)} characters):",
            style="cyan",
        )
        line(signed_data)
    line(f"Signed and verified in {time.monotonic() - started:.1f} s.", style="bold green")
    return EXIT_OK
