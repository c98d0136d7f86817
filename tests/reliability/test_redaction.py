"""No secret, and nothing about the receiver, in any log, repr, str or error.

Whole flows run against the sandbox (success, App to App, failures with faults,
token renewals, refused dates, validation errors; e-signatures, then identity
verification and CMS, whose bank details count as personal data too) with every
logger captured at
DEBUG, and the text of every record (its message, arguments and extra fields),
and the repr, str and traceback of every object and exception that came out, is
searched for: the secret key (base64 and raw), every session token the sandbox
issued, every Authorization and x-kc-auth value sent, and the receiver's name,
phone and birthday.

The App to App signature (``verify_esign``'s third argument) is not among the
secrets of the issue, but it is kept out of this package's own logs and errors
too (they show ``<signature>``). httpx itself logs each request's URL at INFO,
and the URL is where the protocol puts the signature: see docs/reliability.md.
"""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kakaocert_async import (
    Client,
    ESignRequest,
    KakaocertError,
    ValidationError,
    VerifyOutcomeUnknown,
)
from kakaocert_async.sandbox import Fault, Sandbox
from tests._support import make_cms_request, make_request, make_verify_auth_request
from tests.reliability._helpers import Tap, tapped_client
from tests.sandbox._raw import FakeClock

# Receiver data no other value in a flow could contain by chance.
NAME = "비밀순이"
PHONE = "01097318642"
BIRTHDAY = "19830917"
# A secret key of this test's own, so that nothing else knows it.
RAW_KEY = b"reliability: a SecretKey never to be shown"
SECRET_KEY = base64.b64encode(RAW_KEY).decode()


def _request(**changes: Any) -> ESignRequest:
    fields: dict[str, Any] = {
        "receiver_name": NAME,
        "receiver_hp": PHONE,
        "receiver_birthday": BIRTHDAY,
        **changes,
    }
    return make_request(**fields)


class Evidence:
    """Everything a flow produced that someone could end up reading."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        """reprs, strs and tracebacks of the objects and errors."""
        self.logged: list[tuple[str, str]] = []
        """(logger, text) of every log record: its message, arguments and extras."""

    def add(self, *things: object) -> None:
        for thing in things:
            self.shown += [repr(thing), str(thing)]
            if isinstance(thing, BaseException):
                self.shown.append("".join(traceback.format_exception(thing)))
                for linked in _chain(thing):
                    self.shown += [repr(linked), str(linked), repr(vars(linked))]

    async def attempt(self, make: Any) -> None:
        """Await ``make()`` and add its result, or the error it raised."""
        try:
            self.add(await make())
        except KakaocertError as error:
            self.add(error)

    def records(self, records: list[logging.LogRecord]) -> None:
        for record in records:
            text = record.getMessage() + "\n" + repr(vars(record))
            if record.exc_info and record.exc_info[1] is not None:
                text += "".join(traceback.format_exception(record.exc_info[1]))
            self.logged.append((record.name, text))

    def holds(self, secret: str, *, loggers: str = "") -> bool:
        """Whether ``secret`` was shown, or logged by a logger under ``loggers``."""
        return any(secret in text for text in self.shown) or any(
            secret in text for name, text in self.logged if name.startswith(loggers)
        )


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]


def _secrets(sandbox: Sandbox, tap: Tap, tokens: list[str]) -> dict[str, str]:
    secrets = {
        "secret key": SECRET_KEY,
        "raw secret key": RAW_KEY.decode(),
        "raw secret key (bytes repr)": repr(RAW_KEY)[2:-1],
        "receiver name": NAME,
        "receiver phone": PHONE,
        "receiver birthday": BIRTHDAY,
    }
    for number, token in enumerate(tokens):
        secrets[f"session token {number}"] = token
    for request in tap.sent:
        for header in ("authorization", "x-kc-auth"):
            value = request.headers.get(header)
            if value is not None:
                secrets[f"{header}: {value}"] = value
                # The signature alone, in case something printed only it.
                secrets[f"{header} signature of {value}"] = value.rsplit(" ", 1)[-1]
    return secrets


def _record_tokens(sandbox: Sandbox, issued: list[str]) -> None:
    """Have ``sandbox`` note every session token it issues in ``issued``."""
    grant = sandbox.service.grant_token

    def recording_grant(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = grant(*args, **kwargs)
        issued.append(answer["session_token"])
        return answer

    sandbox.service.grant_token = recording_grant  # type: ignore[method-assign]


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: every library's records
    for name in ("kakaocert_async", "httpx", "httpcore", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


async def test_no_secret_or_personal_data_is_ever_shown(
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    sandbox = Sandbox(secret_key=SECRET_KEY, clock=clock)
    issued: list[str] = []
    _record_tokens(sandbox, issued)
    evidence = Evidence()
    client, tap = tapped_client(sandbox)
    code = sandbox.client_code
    evidence.add(sandbox, sandbox.settings, client)

    attempt = evidence.attempt

    async with sandbox, client:
        # A KakaoTalk flow, with a flaky state endpoint on the way.
        request = _request()
        evidence.add(request)
        sandbox.faults.add(Fault(action="error", endpoints=["status"], every=2))
        receipt = await client.request_esign(code, request)
        await sandbox.sign(receipt.receipt_id)
        status = await client.await_signed(code, receipt.receipt_id, interval=0.01)
        sandbox.faults.clear()
        evidence.add(receipt, status, await client.verify_esign(code, receipt.receipt_id))

        # App to App, verified with its signature.
        app = await client.request_esign(code, _request(), app_to_app=True)
        await sandbox.sign(app.receipt_id)
        signature = sandbox.signature(app.receipt_id)
        evidence.add(app, await client.verify_esign(code, app.receipt_id, signature))

        # Failures: a 5xx on request, a dropped and a repeated verify, an unknown
        # receipt, a wrong App to App signature, a refused connection, a timeout.
        sandbox.faults.add(Fault(action="error", endpoints=["request"], times=1, body="json"))
        await attempt(lambda: client.request_esign(code, _request()))
        lost = await client.request_esign(code, _request())
        await sandbox.sign(lost.receipt_id)
        sandbox.faults.add(Fault(action="drop", endpoints=["verify"], times=1))
        with pytest.raises(VerifyOutcomeUnknown) as unknown:
            await client.verify_esign(code, lost.receipt_id)
        evidence.add(unknown.value)
        await attempt(lambda: client.verify_esign(code, lost.receipt_id))
        await attempt(lambda: client.get_esign_state(code, "99"))
        wrong = await client.request_esign(code, _request(), app_to_app=True)
        await sandbox.sign(wrong.receipt_id)
        await attempt(lambda: client.verify_esign(code, wrong.receipt_id, signature))
        tap.refuse["request"] = 3
        await attempt(lambda: client.request_esign(code, _request()))
        await attempt(lambda: client.await_signed(code, wrong.receipt_id, timeout=0.05))
        pending = await client.request_esign(code, _request())
        await attempt(lambda: client.await_signed(code, pending.receipt_id, timeout=0.05))

        # Token renewals: revoked, then expired; and a date the service refuses.
        sandbox.revoke_tokens()
        evidence.add(await client.get_esign_state(code, pending.receipt_id))
        clock.advance(3700)
        evidence.add(await client.request_esign(code, _request()))

        # Validation errors, with the personal data itself being what is wrong.
        for bad in (
            {"receiver_name": NAME * 6},  # over 20 characters
            {"receiver_hp": PHONE + "0"},
            {"receiver_hp": PHONE[:3] + "-" + PHONE[3:]},
            {"receiver_birthday": BIRTHDAY[:4] + "13" + BIRTHDAY[6:]},
            {"receiver_birthday": BIRTHDAY + "0"},
        ):
            with pytest.raises(ValidationError) as invalid:
                _request(**bad)
            evidence.add(invalid.value)

    # Over real sockets (httpcore logs too), with a short-lived token renewed.
    served = Sandbox(secret_key=SECRET_KEY, token_ttl=2, sign_after=1.5)
    _record_tokens(served, issued)
    with served.serve_in_thread() as url:
        served_tap = Tap(httpx.AsyncHTTPTransport())
        served_client = Client(
            served.link_id, SECRET_KEY, base_url=url, auth_url=url, transport=served_tap
        )
        async with served_client:
            receipt = await served_client.request_esign(code, _request())
            evidence.add(await served_client.await_signed(code, receipt.receipt_id, interval=0.1))
            evidence.add(await served_client.verify_esign(code, receipt.receipt_id))
    tap.sent += served_tap.sent

    # The local clock far off, without server time: the error explains it.
    skewed = Sandbox(secret_key=SECRET_KEY, clock_offset=900)
    _record_tokens(skewed, issued)
    skewed_client, skewed_tap = tapped_client(skewed, use_server_time=False)
    async with skewed, skewed_client:
        await attempt(lambda: skewed_client.request_esign(code, _request()))
    tap.sent += skewed_tap.sent

    evidence.records(everything_logged.records)
    secrets = _secrets(sandbox, tap, issued)
    # The flows did what they should have: tokens issued and renewed, both
    # signature headers sent many times, and the loggers talking.
    assert len(issued) >= 3
    assert sum(1 for r in tap.sent if "authorization" in r.headers) >= 20
    assert sum(1 for r in tap.sent if "x-kc-auth" in r.headers) >= 8
    loggers = {name.partition(".")[0] for name, _ in evidence.logged}
    assert {"kakaocert_async", "httpcore"} <= loggers

    assert [name for name, secret in secrets.items() if evidence.holds(secret)] == []
    # The App to App signature: not in this package's own logs or errors.
    assert not evidence.holds(signature, loggers="kakaocert_async")


# The identity and CMS flows -----------------------------------------------------------

ACCOUNT_HOLDER = "계좌주인"
ACCOUNT = "3710265518"
PAYER = "payer-5518-x"


async def test_identity_and_cms_flows_show_no_personal_data(
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    sandbox = Sandbox(secret_key=SECRET_KEY)
    issued: list[str] = []
    _record_tokens(sandbox, issued)
    evidence = Evidence()
    client, tap = tapped_client(sandbox)
    code = sandbox.client_code
    receiver = {"receiver_name": NAME, "receiver_hp": PHONE, "receiver_birthday": BIRTHDAY}
    bank = {"bank_account_name": ACCOUNT_HOLDER, "bank_account_num": ACCOUNT}

    attempt = evidence.attempt

    async with sandbox, client:
        identity_request = make_verify_auth_request(**receiver)
        cms_request = make_cms_request(**receiver, **bank, client_user_id=PAYER)
        evidence.add(identity_request, cms_request)
        identity = await client.request_verify_auth(code, identity_request)
        cms = await client.request_cms(code, cms_request, app_to_app=True)
        for receipt in (identity, cms):
            await sandbox.sign(receipt.receipt_id)
            evidence.add(receipt, await client.await_signed(code, receipt, interval=0.01))
        evidence.add(await client.verify_auth(code, identity.receipt_id))
        signature = sandbox.signature(cms.receipt_id)
        evidence.add(await client.verify_cms(code, cms.receipt_id, signature))
        await attempt(lambda: client.verify_cms(code, cms.receipt_id, signature))
        # A verify whose answer is lost, and one refused.
        talk = await client.request_cms(code, cms_request)
        await sandbox.sign(talk.receipt_id)
        sandbox.faults.add(Fault(action="drop", endpoints=["cms.verify"], times=1))
        await attempt(lambda: client.verify_cms(code, talk.receipt_id))
        await attempt(lambda: client.verify_cms(code, talk.receipt_id))
        await attempt(lambda: client.get_cms_state(code, "99"))
        for bad in ({"bank_account_num": ACCOUNT + "\x00"}, {"receiver_hp": PHONE + "0"}):
            with pytest.raises(ValidationError) as invalid:
                make_cms_request(**{**receiver, **bank, **bad})
            evidence.add(invalid.value)

    evidence.records(everything_logged.records)
    secrets = {
        **_secrets(sandbox, tap, issued),
        "account holder": ACCOUNT_HOLDER,
        "account number": ACCOUNT,
        "payer number": PAYER,
    }
    assert sum(1 for r in tap.sent if "x-kc-auth" in r.headers) == 3
    assert [name for name, secret in secrets.items() if evidence.holds(secret)] == []
    assert not evidence.holds(signature, loggers="kakaocert_async")
