"""The official ``barocert`` SDK (1.8.0, unmodified) driven against a served sandbox, and a
capture of exactly what it sends, per operation.

- :class:`Recorder` wraps the sandbox's ASGI app and keeps every request as received:
  method, raw path, headers in order (names lower-cased by the server), body bytes.
- :func:`official_service` serves the sandbox behind a recorder on a loopback port and
  yields a fresh ``KakaocertService`` wired to it.
- :data:`OPERATIONS` calls every Kakao operation once, with fixed inputs.
- :func:`normalize` turns a call into stable data: volatile values (host, dates, tokens,
  receipt and transaction ids) become placeholders, after checking that every HMAC is
  right; encrypted fields are decrypted and listed. ``CAPTURE`` is the stored result
  (``python -m tests.sandbox._barocert_official`` writes it again). A Barocert client
  can be compared with it field by field: same method, path, headers that matter,
  HMAC, and the same plaintext behind its ciphertexts.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from kakaocert_async import _signing
from kakaocert_async.barocert import (
    BankServiceType,
    CMSRequest,
    IdentityRequest,
    Kind,
    MultiSignRequest,
    SignDocument,
    SignRequest,
    TokenType,
    _crypto,
    hash_file,
)
from kakaocert_async.barocert import _kinds as barocert_kinds
from kakaocert_async.barocert import _wire as barocert_wire
from kakaocert_async.sandbox import Sandbox
from kakaocert_async.sandbox._server import serve_in_thread
from tests.barocert._requests import RECEIVER as PLAIN_RECEIVER

CAPTURE = Path(__file__).parent / "data" / "barocert_official_requests.json"

RECEIVER = {"receiverHP": "01012341234", "receiverName": "홍길동", "receiverBirthday": "19900108"}
DOCUMENT = b"%PDF-1.7 a contract to sign"

PLAINTEXT: dict[Kind, Any] = {
    Kind.IDENTITY: IdentityRequest(
        **PLAIN_RECEIVER,
        req_title="본인인증 요청",
        extra_message="로그인을 위해 본인인증을 해주세요",
        expire_in=300,
        token="login-nonce-0001",
    ),
    Kind.SIGN: SignRequest(
        **PLAIN_RECEIVER,
        sign_title="계약서 서명",
        expire_in=1000,
        token=hash_file(DOCUMENT),
        token_type=TokenType.HASH,
        app_to_app=True,
        return_url="https://shop.example/back",
    ),
    Kind.MULTI_SIGN: MultiSignRequest(
        **PLAIN_RECEIVER,
        req_title="복수 서명 요청",
        extra_message="세 문서에 서명해 주세요",
        expire_in=300,
        documents=[SignDocument(title=f"문서 {i}", token=f"원문 {i}") for i in range(3)],
        token_type=TokenType.TEXT,
    ),
    Kind.CMS: CMSRequest(
        **PLAIN_RECEIVER,
        req_title="출금동의 요청",
        expire_in=300,
        request_corp="링크허브",
        bank_name="국민은행",
        bank_account_num="19-321442-1231",
        bank_account_name="홍길동",
        bank_account_birthday="19900108",
        bank_service_type=BankServiceType.CMS,
    ),
}
"""What each operation of :data:`BUILDERS` asks, as our plaintext models: what the
sandbox decrypts from the official SDK's bodies, and what our client is given for the
byte comparison."""


@attrs.define
class Call:
    """One HTTP request as the sandbox received it."""

    method: str
    path: str
    """The raw path, as sent (no query)."""
    headers: list[tuple[str, str]]
    body: bytes = b""


class Recorder:
    """ASGI middleware keeping every HTTP request the app receives, in order."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[Call] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        call = Call(
            method=scope["method"],
            path=bytes(raw).split(b"?", 1)[0].decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        )
        self.calls.append(call)

        async def recording() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                call.body += message.get("body", b"")
            return message

        await self.app(scope, recording, send)


@contextlib.contextmanager
def official_service(sandbox: Sandbox) -> Iterator[tuple[Any, Recorder]]:
    """The sandbox served behind a :class:`Recorder`, and a fresh official
    ``KakaocertService`` wired to it with its own ``ServiceURL``/``AuthURL`` setters.

    The SDK's singletons are reset around the block, and the connections it opens
    (it closes none) are closed at the end.
    """
    base = pytest.importorskip("barocert.base", reason="the official barocert SDK")
    barocert = pytest.importorskip("barocert")
    linkhub = pytest.importorskip("linkhub")
    recorder = Recorder(sandbox.app)
    with (
        serve_in_thread(recorder, host="127.0.0.1", port=0) as url,
        pytest.MonkeyPatch.context() as patch,
    ):
        opened: list[http.client.HTTPConnection] = []
        plain = http.client.HTTPConnection

        def tracked(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            connection = plain(*args, **kwargs)
            opened.append(connection)
            return connection

        patch.setattr(http.client, "HTTPConnection", tracked)
        patch.setattr(base.Singleton, "_instances", {})
        patch.setattr(linkhub.TokenInstance, "_ServiceURL", "")
        service = barocert.KakaocertService(sandbox.link_id, sandbox.secret_key)
        service.ServiceURL(url)
        service.AuthURL(url)
        try:
            yield service, recorder
        finally:
            for connection in opened:
                connection.close()


# The operations ------------------------------------------------------------------


def _identity(service: Any) -> Any:
    import barocert

    e = service._encrypt
    return barocert.KakaoIdentity(
        **{k: e(v) for k, v in RECEIVER.items()},
        reqTitle="본인인증 요청",
        extraMessage=e("로그인을 위해 본인인증을 해주세요"),
        expireIn=300,
        token=e("login-nonce-0001"),
        appUseYN=False,
    )


def _sign(service: Any) -> Any:
    import barocert

    e = service._encrypt
    return barocert.KakaoSign(
        **{k: e(v) for k, v in RECEIVER.items()},
        signTitle="계약서 서명",
        expireIn=1000,
        token=e(service._sha256_base64url_file(DOCUMENT)),
        tokenType="HASH",
        appUseYN=True,
        returnURL="https://shop.example/back",
    )


def _multi_sign(service: Any) -> Any:
    import barocert

    e = service._encrypt
    tokens = [
        barocert.KakaoMultiSignTokens(signTitle=f"문서 {i}", token=e(f"원문 {i}")) for i in range(3)
    ]
    return barocert.KakaoMultiSign(
        **{k: e(v) for k, v in RECEIVER.items()},
        reqTitle="복수 서명 요청",
        extraMessage=e("세 문서에 서명해 주세요"),
        expireIn=300,
        tokens=tokens,
        tokenType="TEXT",
        appUseYN=False,
    )


def _cms(service: Any) -> Any:
    import barocert

    e = service._encrypt
    return barocert.KakaoCMS(
        **{k: e(v) for k, v in RECEIVER.items()},
        reqTitle="출금동의 요청",
        expireIn=300,
        requestCorp=e("링크허브"),
        bankName=e("국민은행"),
        bankAccountNum=e("19-321442-1231"),
        bankAccountName=e("홍길동"),
        bankAccountBirthday=e("19900108"),
        bankServiceType=e("CMS"),
        appUseYN=False,
    )


BUILDERS: dict[Kind, Callable[[Any], Any]] = {
    Kind.IDENTITY: _identity,
    Kind.SIGN: _sign,
    Kind.MULTI_SIGN: _multi_sign,
    Kind.CMS: _cms,
}
METHOD = {
    Kind.IDENTITY: "Identity",
    Kind.SIGN: "Sign",
    Kind.MULTI_SIGN: "MultiSign",
    Kind.CMS: "CMS",
}


def run_every_operation(
    service: Any, sandbox: Sandbox, recorder: Recorder
) -> tuple[dict[str, Any], dict[str, list[Call]]]:
    """Every ``KakaocertService`` Kakao operation once: per kind request, status (waiting),
    status (completed, after the sandbox signs), verify; then login verify. Returns the
    SDK's answers and the calls each operation made, by operation name."""
    answers: dict[str, Any] = {}
    calls: dict[str, list[Call]] = {}
    code = sandbox.client_code

    def run(name: str, operation: str, *args: Any) -> Any:
        start = len(recorder.calls)
        answers[name] = getattr(service, operation)(code, *args)
        calls[name] = recorder.calls[start:]
        return answers[name]

    for kind, build in BUILDERS.items():
        method = METHOD[kind]
        receipt_id = run(f"request{method}", f"request{method}", build(service)).receiptID
        run(f"get{method}Status", f"get{method}Status", receipt_id)
        sandbox.barocert.sign(receipt_id)
        run(f"get{method}Status (signed)", f"get{method}Status", receipt_id)
        run(f"verify{method}", f"verify{method}", receipt_id)
    run("verifyLogin", "verifyLogin", sandbox.barocert.login())
    return answers, calls


# Normalization -------------------------------------------------------------------

_RECEIPT_ID = re.compile(r"\b\d{32}\b")
_TX_ID = re.compile(r"01[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z")


def normalize(call: Call, key: bytes) -> dict[str, Any]:
    """``call`` as stable data; raises ``AssertionError`` if a signature is wrong or an
    encrypted field does not decrypt with ``key``."""
    headers = dict(call.headers)
    path = _TX_ID.sub("{txID}", _RECEIPT_ID.sub("{receiptID}", call.path))
    normalized: dict[str, Any] = {
        "method": call.method,
        "path": path,
        "headers": [f"{name}: {_placeholder(name, value)}" for name, value in call.headers],
    }
    if "x-bc-auth" in headers:
        date = headers["x-bc-date"]
        expected = _signing.hmac_b64(key, _signing.barocert_target(call.body, date, call.path))
        assert headers["x-bc-auth"] == expected, f"x-bc-auth of {path} does not verify"
    if headers.get("authorization", "").startswith("LINKHUB"):
        target = _signing.token_target(
            call.body,
            headers["x-lh-date"],
            forwarded=headers.get("x-lh-forwarded"),
            path=_signing.BAROCERT_TOKEN_PATH,
        )
        expected = _signing.hmac_b64(key, target)
        assert headers["authorization"].split()[-1] == expected, "the token HMAC does not verify"
    if call.body:
        normalized.update(_body(call, key))
    return normalized


def _placeholder(name: str, value: str) -> str:
    if name == "host":
        return "{host}"
    if name in {"x-bc-date", "x-lh-date"}:
        assert _DATE.fullmatch(value), value
        return "{date}"
    if name == "x-bc-auth":
        return "{hmac}"
    if name == "authorization":
        scheme, rest = value.split(" ", 1)
        return (
            "Bearer {session_token}"
            if scheme == "Bearer"
            else f"{scheme} {rest.split()[0]} {{hmac}}"
        )
    return value


def _body(call: Call, key: bytes) -> dict[str, Any]:
    text = call.body.decode("utf-8")
    data = json.loads(text)
    segments = call.path.split("/")
    kinds = {kind.value: kind for kind in Kind}
    if call.path.startswith("/KAKAO/") and segments[2] in kinds and len(segments) == 4:
        cipher = _crypto.Cipher(key)
        encrypted: list[str] = []

        def decrypt(value: str, path: str) -> str:
            encrypted.append(path)
            return cipher.decrypt(value)

        request = barocert_kinds.of(kinds[segments[2]]).request
        barocert_wire.map_encrypted(request, data, decrypt)
        return {"json": data, "encrypted": encrypted}
    return {"json": data, "raw": text}


def capture(sandbox: Sandbox, calls: dict[str, list[Call]]) -> dict[str, list[dict[str, Any]]]:
    """Every operation's calls, normalized."""
    key = sandbox.settings.key
    return {name: [normalize(call, key) for call in made] for name, made in calls.items()}


def stored() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads(CAPTURE.read_text("utf-8"))
    return data


def main() -> None:
    sandbox = Sandbox(sign_after=None)
    with official_service(sandbox) as (service, recorder):
        _, calls = run_every_operation(service, sandbox, recorder)
    CAPTURE.parent.mkdir(exist_ok=True)
    text = json.dumps(capture(sandbox, calls), ensure_ascii=False, indent=1)
    CAPTURE.write_text(text + "\n", "utf-8")
    print(f"wrote {CAPTURE}")


if __name__ == "__main__":
    main()
