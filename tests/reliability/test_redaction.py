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
    barocert,
)
from kakaocert_async.barocert import (
    BankServiceType,
    IdentityRequest,
    MultiSignRequest,
    SignDocument,
    SignRequest,
    TokenType,
)
from kakaocert_async.barocert import CMSRequest as BarocertCMSRequest
from kakaocert_async.sandbox import Fault, Sandbox
from kakaocert_async.sandbox._receipts import encrypt_personal_data
from kakaocert_async.sandbox._server import serve_in_thread
from tests._support import make_cms_request, make_request, make_verify_auth_request
from tests.reliability._helpers import Tap, tapped_client
from tests.sandbox._barocert_official import Recorder
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


def _record_tokens(sandbox: Sandbox, issued: list[str], *, barocert: bool = False) -> None:
    """Have ``sandbox`` note every session token it issues in ``issued`` (Barocert's,
    with ``barocert``)."""
    service: Any = sandbox.barocert if barocert else sandbox.service
    grant = service.grant_token

    def recording_grant(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = grant(*args, **kwargs)
        issued.append(answer["session_token"])
        return answer

    service.grant_token = recording_grant


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
    sandbox = Sandbox(sign_after=None, secret_key=SECRET_KEY, clock=clock)
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
        status = await client.await_signed(code, receipt, interval=0.01)
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
        await attempt(lambda: client.await_signed(code, wrong, timeout=0.05))
        pending = await client.request_esign(code, _request())
        await attempt(lambda: client.await_signed(code, pending, timeout=0.05))

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
            evidence.add(await served_client.await_signed(code, receipt, interval=0.1))
            evidence.add(await served_client.verify_esign(code, receipt.receipt_id))
    tap.sent += served_tap.sent

    # The local clock far off, without server time: the error explains it.
    skewed = Sandbox(sign_after=None, secret_key=SECRET_KEY, clock_offset=900)
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
    sandbox = Sandbox(sign_after=None, secret_key=SECRET_KEY)
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


# Barocert -------------------------------------------------------------------------------

# Every field Barocert sends encrypted, with values no other could contain by chance.
BC_RAW_KEY = b"barocert: a key never to be seen"  # 32 bytes: an AES-256 key
BC_SECRET_KEY = base64.b64encode(BC_RAW_KEY).decode()
BC_PLAIN = {
    "receiver_name": NAME,
    "receiver_hp": PHONE,
    "receiver_birthday": BIRTHDAY,
    "extra_message": "비밀 부가메시지 7731",
    "token": "secret-nonce-5519",
}
BC_DOCUMENT = "비밀 계약서 본문 4410"
BC_BANK = {
    "request_corp": "비밀청구기관",
    "bank_name": "비밀은행",
    "bank_account_num": "371-0265-5518",
    "bank_account_name": ACCOUNT_HOLDER,
    "bank_account_birthday": "19790304",
}


async def test_barocert_flows_show_no_secret_or_personal_data(
    everything_logged: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    sandbox = Sandbox(sign_after=None, secret_key=BC_SECRET_KEY, clock=clock)
    issued: list[str] = []
    _record_tokens(sandbox, issued, barocert=True)
    evidence = Evidence()
    attempt = evidence.attempt
    tap = Tap(sandbox.transport())
    client = barocert.Client(
        sandbox.link_id, BC_SECRET_KEY, base_url=sandbox.url, auth_url=sandbox.url, transport=tap
    )
    code = sandbox.client_code
    receiver = {k: BC_PLAIN[k] for k in ("receiver_name", "receiver_hp", "receiver_birthday")}
    common = {**receiver, "extra_message": BC_PLAIN["extra_message"], "expire_in": 300}
    requests = [
        IdentityRequest(**common, req_title="본인인증", token=BC_PLAIN["token"]),
        SignRequest(
            **common,
            sign_title="서명",
            token=BC_DOCUMENT,
            token_type=TokenType.TEXT,
            app_to_app=True,
            return_url="https://shop.example/back",
        ),
        MultiSignRequest(
            **common,
            req_title="복수 서명",
            documents=[SignDocument(title="문서", token=BC_DOCUMENT)],
            token_type=TokenType.TEXT,
        ),
        BarocertCMSRequest(
            **common, req_title="출금동의", **BC_BANK, bank_service_type=BankServiceType.GIRO
        ),
    ]
    verify = {
        IdentityRequest: client.verify_identity,
        SignRequest: client.verify_sign,
        MultiSignRequest: client.verify_multi_sign,
        BarocertCMSRequest: client.verify_cms,
    }
    send = {
        IdentityRequest: client.request_identity,
        SignRequest: client.request_sign,
        MultiSignRequest: client.request_multi_sign,
        BarocertCMSRequest: client.request_cms,
    }
    evidence.add(client, *requests)

    async with sandbox, client:
        # Every kind: request, wait (through a flaky status), verify.
        sandbox.faults.add(Fault(action="error", endpoints=["barocert.cms.status"], every=2))
        for request in requests:
            receipt = await send[type(request)](code, request)  # type: ignore[operator]
            sandbox.barocert.sign(receipt.receipt_id)
            status = await client.await_completed(code, receipt, interval=0.01)
            verified = await verify[type(request)](code, receipt.receipt_id)  # type: ignore[operator]
            evidence.add(receipt, status, verified)
        sandbox.faults.clear()
        evidence.add(await client.verify_login(code, sandbox.barocert.login(receiver_name=NAME)))

        # Failures: a lost verify and its repeat, a verify too late, a 5xx on request,
        # an unknown receipt, a wait that times out, tokens revoked.
        lost = await client.request_sign(code, requests[1])
        sandbox.barocert.sign(lost.receipt_id)
        sandbox.faults.add(Fault(action="drop", endpoints=["barocert.sign.verify"], times=1))
        await attempt(lambda: client.verify_sign(code, lost.receipt_id))
        await attempt(lambda: client.verify_sign(code, lost.receipt_id))
        late = await client.request_cms(code, requests[3])
        sandbox.barocert.sign(late.receipt_id)
        clock.advance(700)
        with pytest.raises(barocert.VerifyTooLate) as too_late:
            await client.verify_cms(code, late.receipt_id)
        evidence.add(too_late.value)
        sandbox.faults.add(
            Fault(action="error", endpoints=["barocert.identity.request"], times=1, body="json")
        )
        await attempt(lambda: client.request_identity(code, requests[0]))
        await attempt(lambda: client.get_multi_sign_status(code, "0" * 32))
        pending = await client.request_identity(code, requests[0])
        await attempt(lambda: client.await_completed(code, pending, timeout=0.05))
        sandbox.barocert.revoke_tokens()
        evidence.add(await client.get_identity_status(code, pending.receipt_id))

        # Validation errors, the personal data being what is wrong.
        for bad in (
            {"receiver_name": NAME * 30},
            {"receiver_hp": PHONE + "0"},
            {"receiver_birthday": BIRTHDAY[:4] + "13" + BIRTHDAY[6:]},
            {"bank_account_num": BC_BANK["bank_account_num"] * 9},
            {"bank_account_name": ACCOUNT_HOLDER + "\x00"},
        ):
            with pytest.raises(ValidationError) as invalid:
                BarocertCMSRequest(
                    **{
                        **common,
                        "req_title": "출금동의",
                        **BC_BANK,
                        "bank_service_type": "CMS",
                        **bad,
                    }
                )
            evidence.add(invalid.value)

    # Over real sockets with the default backend (aiohttp), recorded at the server.
    served = Sandbox(secret_key=BC_SECRET_KEY, sign_after=0.0)
    recorder = Recorder(served.app)
    with serve_in_thread(recorder, host="127.0.0.1", port=0) as url:
        async with barocert.Client(
            served.link_id, BC_SECRET_KEY, base_url=url, auth_url=url
        ) as served_client:
            assert served_client.http_backend == "aiohttp"
            receipt = await served_client.request_sign(code, requests[1])
            evidence.add(await served_client.await_completed(code, receipt, interval=0.05))
            evidence.add(await served_client.verify_sign(code, receipt.receipt_id))

    evidence.records(everything_logged.records)
    sent = [dict(request.headers) for request in tap.sent]
    sent += [dict(call.headers) for call in recorder.calls]
    secrets = {
        "secret key": BC_SECRET_KEY,
        "raw secret key": BC_RAW_KEY.decode(),
        "document": BC_DOCUMENT,
        **{f"plain {name}": value for name, value in {**BC_PLAIN, **BC_BANK}.items()},
        # The verify answers' ciphertexts (the sandbox's CTR key is fixed, so they repeat).
        "ci ciphertext name": encrypt_personal_data(NAME),
        "ci ciphertext phone": encrypt_personal_data(PHONE),
    }
    for number, token in enumerate(issued):
        secrets[f"session token {number}"] = token
    for headers in sent:
        for header in ("authorization", "x-bc-auth"):
            value = headers.get(header)
            if value is not None:
                secrets[f"{header}: {value}"] = value.rsplit(" ", 1)[-1]
    assert len(issued) >= 2
    assert sum(1 for headers in sent if "x-bc-auth" in headers) >= 12
    loggers = {name.partition(".")[0] for name, _ in evidence.logged}
    assert "kakaocert_async" in loggers
    assert [name for name, secret in secrets.items() if evidence.holds(secret)] == []
