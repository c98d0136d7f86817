"""The Barocert commands: ``kakaocert-async barocert KIND request|state|wait|verify`` and
``verify-login``.

Each kind (``identity``, ``sign``, ``multi-sign``, ``cms``) has the four verbs of
the 2.x families; ``state`` and ``wait`` are theirs (``_commands``), run with the
Barocert client and the ``BAROCERT_*`` environment variables (credentials fall
back to ``KAKAOCERT_*``: a partner has one LinkID and SecretKey). The receiver's
data is given in plain text and encrypted by the client; it is never printed.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

from kakaocert_async import barocert
from kakaocert_async._connection import ClientBase
from kakaocert_async._env import Variables
from kakaocert_async.barocert import (
    BankServiceType,
    CMSRequest,
    IdentityRequest,
    Kind,
    MultiSignRequest,
    SignDocument,
    SignRequest,
    TokenType,
)

from . import _commands
from ._base import (
    EXIT_OK,
    CommandError,
    Commands,
    Service,
    personal,
    revealed,
    run,
    shielded_request,
    shielded_verify,
    to_json,
)

BAROCERT = barocert.Client.variables
"""``BAROCERT_LINK_ID``, ``_SECRET_KEY``, ``_CLIENT_CODE`` (each falling back to its
``KAKAOCERT_`` twin), ``BAROCERT_API_URL`` and ``BAROCERT_AUTH_URL``."""

_ENV_HELP = """\
environment:
  BAROCERT_LINK_ID, BAROCERT_SECRET_KEY, BAROCERT_CLIENT_CODE   the credentials
      (each unset one is read from its KAKAOCERT_ twin)
  BAROCERT_API_URL, BAROCERT_AUTH_URL   other service URLs (a sandbox: the same URL in both)
"""
_WAIT_EXIT_HELP = "exit status: 0 completed, 2 expired, refused or failed, 3 timed out, 1 error"

Request = IdentityRequest | SignRequest | MultiSignRequest | CMSRequest
Verified = barocert.Verification | barocert.MultiSignVerification


@attrs.frozen(kw_only=True)
class BarocertKind:
    """A kind of receipt as the command line offers it."""

    kind: Kind
    name: str
    """The command group: ``identity``, ``sign``, ``multi-sign`` or ``cms``."""
    what: str
    """What a request asks, after "ask a receiver to"."""
    calls: tuple[str, str, str]
    """The official SDK's names of request, status and verify (shown in the help)."""
    request: Callable[[barocert.Client, str, Any], Awaitable[barocert.Receipt]]
    state: Callable[[barocert.Client, str, str], Awaitable[barocert.Status]]
    verify: Callable[[barocert.Client, str, str], Awaitable[Verified]]
    variables: Variables = BAROCERT
    client_class: type[ClientBase] = barocert.Client

    def watch(
        self,
        client: barocert.Client,
        code: str,
        receipt_id: str,
        timeout: float | None,
        interval: float,
    ) -> AsyncGenerator[barocert.Status, None]:
        return client.watch_status(
            code, receipt_id, kind=self.kind, timeout=timeout, interval=interval
        )


IDENTITY = BarocertKind(
    kind=Kind.IDENTITY,
    name="identity",
    what="verify their identity (본인인증)",
    calls=("requestIdentity", "getIdentityStatus", "verifyIdentity"),
    request=lambda c, code, r: c.request_identity(code, r),
    state=lambda c, code, rid: c.get_identity_status(code, rid),
    verify=lambda c, code, rid: c.verify_identity(code, rid),
)
SIGN = BarocertKind(
    kind=Kind.SIGN,
    name="sign",
    what="sign one document (전자서명)",
    calls=("requestSign", "getSignStatus", "verifySign"),
    request=lambda c, code, r: c.request_sign(code, r),
    state=lambda c, code, rid: c.get_sign_status(code, rid),
    verify=lambda c, code, rid: c.verify_sign(code, rid),
)
MULTI_SIGN = BarocertKind(
    kind=Kind.MULTI_SIGN,
    name="multi-sign",
    what="sign up to 20 documents at once (전자서명 복수)",
    calls=("requestMultiSign", "getMultiSignStatus", "verifyMultiSign"),
    request=lambda c, code, r: c.request_multi_sign(code, r),
    state=lambda c, code, rid: c.get_multi_sign_status(code, rid),
    verify=lambda c, code, rid: c.verify_multi_sign(code, rid),
)
CMS = BarocertKind(
    kind=Kind.CMS,
    name="cms",
    what="consent to a bank withdrawal (출금동의)",
    calls=("requestCMS", "getCMSStatus", "verifyCMS"),
    request=lambda c, code, r: c.request_cms(code, r),
    state=lambda c, code, rid: c.get_cms_status(code, rid),
    verify=lambda c, code, rid: c.verify_cms(code, rid),
)
KINDS = (IDENTITY, SIGN, MULTI_SIGN, CMS)

GROUP_HELP = (
    "Barocert, Linkhub's current Kakao certificate API: identity, sign, multi-sign and cms"
    " (request, state, wait, verify each), and verify-login"
)


def add_parser(commands: Commands) -> None:
    """Add the ``barocert`` group to ``commands``."""
    group = commands.add_parser(
        "barocert",
        help=GROUP_HELP.split(":")[0],
        description=GROUP_HELP + ".",
        epilog=_ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = group.add_subparsers(dest="barocert_kind", metavar="COMMAND", required=True)
    for kind in KINDS:
        request_call, status_call, verify_call = kind.calls
        verbs = kinds.add_parser(
            kind.name,
            help=f"{kind.what}: request, state, wait, verify",
            description=f"Ask a receiver to {kind.what}, and follow the request.",
        )
        actions = verbs.add_subparsers(dest="action", metavar="COMMAND", required=True)
        _add_request(actions, kind, request_call)
        _commands.add_state_and_wait(
            actions,
            kind,
            status_call,
            env_help=_ENV_HELP,
            wait_summary="wait until a request is completed or ends, showing progress",
            wait_exit_help=_WAIT_EXIT_HELP,
        )
        parser = _add(
            actions,
            "verify",
            f"verify a completed request and print its signed data, once, within 10 minutes"
            f" ({verify_call})",
        )
        parser.add_argument("receipt_id", metavar="ID", help="the receipt id (32 digits)")
        parser.set_defaults(run=run_verify, kind=kind)

    parser = _add(
        kinds,
        "verify-login",
        "verify a KakaoTalk login and print its signed data, once, within 10 minutes (verifyLogin)",
    )
    parser.add_argument("tx_id", metavar="TXID", help="the transaction id your app received")
    parser.set_defaults(run=run_verify_login)


def _add(commands: Commands, name: str, summary: str) -> argparse.ArgumentParser:
    return _commands.add_command(
        commands, name, summary=summary, epilog=_commands.SHIELDED_EXIT_HELP, env_help=_ENV_HELP
    )


def _add_request(commands: Commands, kind: BarocertKind, call: str) -> None:
    parser = _add(commands, "request", f"ask a receiver to {kind.what} ({call})")
    parser.epilog = (
        f"{_ENV_HELP}\nprints the receipt id (App to App: and the scheme on a second line)\n"
        + _commands.SHIELDED_EXIT_HELP
    )
    receiver = parser.add_argument_group("the receiver (sent encrypted, never printed)")
    receiver.add_argument("--name", type=personal, required=True, help="the receiver's name (≤ 80)")
    receiver.add_argument(
        "--phone", type=personal, required=True, help="mobile number, digits only: 01012341234"
    )
    receiver.add_argument(
        "--birthday", type=personal, required=True, help="date of birth, YYYYMMDD"
    )
    add = parser.add_argument
    add(
        "--title",
        required=kind is not SIGN,
        help="the request's title, reqTitle (≤ 40)" + ("; or --sign-title" if kind is SIGN else ""),
    )
    add(
        "--expire-in",
        type=int,
        default=300,
        metavar="S",
        help="seconds the receiver has to answer, 1..1000 (300)",
    )
    add("--message", type=personal, help="extra text in the KakaoTalk message (sent encrypted)")
    add(
        "--app-to-app",
        action="store_true",
        help="App to App: no KakaoTalk message; prints the scheme your app opens",
    )
    add("--return-url", metavar="URL", help="App to App: where KakaoTalk returns to")
    own = parser.add_argument_group(f"the {kind.name} request")
    if kind is IDENTITY:
        own.add_argument(
            "--token",
            type=personal,
            required=True,
            help="a one-time text the receiver signs (≤ 40)",
        )
    elif kind is SIGN:
        own.add_argument("--sign-title", help="the document's title, signTitle (≤ 40)")
        signed = own.add_mutually_exclusive_group(required=True)
        signed.add_argument(
            "--token", type=personal, help="the text the receiver signs (≤ 2800; TEXT)"
        )
        signed.add_argument(
            "--file", type=Path, metavar="PATH", help="a document: its hash is signed (HASH)"
        )
    elif kind is MULTI_SIGN:
        own.add_argument(
            "--document",
            nargs=2,
            type=personal,
            action="append",
            metavar=("TITLE", "TEXT"),
            help="a document's title and the text signed (TEXT); repeat, up to 20",
        )
        own.add_argument(
            "--document-file",
            nargs=2,
            action="append",
            metavar=("TITLE", "PATH"),
            help="a document's title and file: its hash is signed (HASH); repeat, up to 20",
        )
    else:
        flags = (
            ("--request-corp", "the requesting company, 청구기관명 (≤ 100)"),
            ("--bank-name", "the bank's name, 은행명 (≤ 100)"),
            ("--bank-account-num", "the account number (≤ 32)"),
            ("--bank-account-name", "the account holder, 예금주명 (≤ 100)"),
            ("--bank-account-birthday", "the account holder's date of birth, YYYYMMDD"),
        )
        for flag, text in flags:
            own.add_argument(flag, type=personal, required=True, help=text)
        own.add_argument(
            "--bank-service-type",
            required=True,
            choices=[member.value for member in BankServiceType],
            help="the kind of withdrawal",
        )
    parser.set_defaults(run=run_request, kind=kind)


# request ---------------------------------------------------------------------------


def build_request(args: argparse.Namespace) -> Request:
    """The request model of the flags' kind; raises the SDK's ``ValidationError``."""
    kind: BarocertKind = args.kind
    # The personal flags are revealed into the call: no local holds them.
    if kind is IDENTITY:
        return IdentityRequest(**_common(args), req_title=args.title, token=args.token.reveal())
    if kind is SIGN:
        hashed = args.file is not None
        return SignRequest(
            **_common(args),
            req_title=args.title,
            sign_title=args.sign_title,
            token=_hash(args.file, "--file") if hashed else args.token.reveal(),
            token_type=TokenType.HASH if hashed else TokenType.TEXT,
        )
    if kind is MULTI_SIGN:
        return MultiSignRequest(**_common(args), req_title=args.title, **_documents(args))
    return CMSRequest(
        **_common(args),
        req_title=args.title,
        request_corp=args.request_corp.reveal(),
        bank_name=args.bank_name.reveal(),
        bank_account_num=args.bank_account_num.reveal(),
        bank_account_name=args.bank_account_name.reveal(),
        bank_account_birthday=args.bank_account_birthday.reveal(),
        bank_service_type=args.bank_service_type,
    )


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "receiver_name": args.name.reveal(),
        "receiver_hp": args.phone.reveal(),
        "receiver_birthday": args.birthday.reveal(),
        "expire_in": args.expire_in,
        "extra_message": revealed(args.message),
        "app_to_app": args.app_to_app,
        "return_url": args.return_url,
    }


def _documents(args: argparse.Namespace) -> dict[str, Any]:
    texts, files = args.document or [], args.document_file or []
    if bool(texts) == bool(files):
        raise CommandError(
            "give the documents with --document TITLE TEXT or --document-file TITLE PATH"
            " (one of the two, repeated)"
        )
    if texts:
        documents = [SignDocument(title=t.reveal(), token=text.reveal()) for t, text in texts]
        return {"documents": documents, "token_type": TokenType.TEXT}
    documents = [
        SignDocument(title=title, token=_hash(Path(path), "--document-file"))
        for title, path in files
    ]
    return {"documents": documents, "token_type": TokenType.HASH}


def _hash(path: Path, flag: str) -> str:
    try:
        return barocert.hash_file(path)
    except OSError as exc:
        raise CommandError(f"{flag}: cannot read {path} ({exc.strerror or exc})") from None


def _service() -> Service:
    return Service.from_env(variables=BAROCERT)


def run_request(args: argparse.Namespace) -> int:
    kind: BarocertKind = args.kind

    async def command() -> int:
        request = build_request(args)  # checked before anything else: nothing is sent
        service = _service()
        async with service.client(barocert.Client) as client:
            receipt = await shielded_request(
                kind.request(client, service.client_code, request), group=f"barocert {kind.name}"
            )
        if args.json:
            print(to_json(receipt))
        else:
            print(receipt.receipt_id)
            if receipt.scheme is not None:
                print(receipt.scheme)
        return EXIT_OK

    return run(command)


# verify ----------------------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    kind: BarocertKind = args.kind

    async def command() -> int:
        service = _service()
        async with service.client(barocert.Client) as client:
            verified = await shielded_verify(
                kind.verify(client, service.client_code, args.receipt_id),
                args.receipt_id,
                group=f"barocert {kind.name}",
            )
        if args.json:
            print(to_json(verified))
        elif isinstance(verified, barocert.MultiSignVerification):
            print("\n".join(verified.multi_signed_data))
        else:
            print(verified.signed_data)
        return EXIT_OK

    return run(command)


def run_verify_login(args: argparse.Namespace) -> int:
    async def command() -> int:
        service = _service()
        async with service.client(barocert.Client) as client:
            verified = await shielded_verify(
                client.verify_login(service.client_code, args.tx_id), args.tx_id, group=None
            )
        print(to_json(verified) if args.json else verified.signed_data)
        return EXIT_OK

    return run(command)
