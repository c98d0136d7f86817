"""Fuzzed input: each outcome is a request with good data, or a ValidationError and none sent."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kakaocert_async import (
    APIError,
    Client,
    ESignReceipt,
    ESignRequest,
    KakaocertError,
    ValidationError,
)
from kakaocert_async._validation import check_text, path_value
from kakaocert_async.barocert import Kind, LoginVerification
from kakaocert_async.sandbox import Rejection, Sandbox
from tests._support import (
    API,
    CLIENT_CODE,
    LINK_ID,
    RECEIPT_ID,
    SECRET_KEY,
    Service,
    make_request,
)
from tests.barocert._requests import make_request as barocert_request

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PERSONAL = ("receiver_name", "receiver_hp", "receiver_birthday")


def _not_personal(value: object) -> bool:
    """Junk that does not itself hold make_request()'s personal values: Hypothesis seeds its
    text with the constants of the code under test, and a caller's own argument that is
    the receiver's birthday would be flagged by the frame guard (tests/_leaks.py) as a
    leak of the request's personal data."""
    shown = repr(value)
    return not any(str(getattr(make_request(), name)) in shown for name in PERSONAL)


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True),
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
    st.text(alphabet="0123456789", max_size=22),
    st.sampled_from(["/", "..", "../x", "?a=1", "#f", "%2F", "\\", "\x00", "\ud800", "١٢٣", " "]),
).filter(_not_personal)

OPTIONAL = ("tms_message", "sub_client_id", "payload")
GOOD = {k: v for k, v in attrs.asdict(make_request()).items() if k not in OPTIONAL}
LIMITS = {
    "call_center_num": 20,
    "receiver_name": 20,
    "token": 500,
    "tms_title": 40,
    "tms_message": 500,
    "sub_client_id": 12,
    "payload": 200,
}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@st.composite
def request_fields(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = dict(GOOD)
    for name in draw(st.sets(st.sampled_from([*GOOD, *OPTIONAL]), min_size=1, max_size=3)):
        fields[name] = draw(junk)
    return fields


def run(
    make: Callable[[Client], Awaitable[object]], *, signed: bool = False
) -> tuple[object, int, list[Any]]:
    """Run one call against a mocked service: (outcome, API requests sent, the requests)."""

    async def main() -> object:
        async with Client(LINK_ID, SECRET_KEY) as client:
            try:
                return await make(client)
            except ValidationError as error:
                return error

    with respx.mock(assert_all_called=False) as router:
        service = Service(router)
        if signed:
            service.state = 1
        outcome = asyncio.run(main())
        sent = [call.request for call in router.calls if call.request.url.host.startswith("kakao")]
        return outcome, service.api_calls, sent


def assert_good_request_data(request: ESignRequest) -> None:
    """The limits, checked independently of the SDK's own checks."""
    for name, limit in LIMITS.items():
        value = getattr(request, name)
        if value is None and name in OPTIONAL:
            continue
        assert isinstance(value, str)
        assert len(value) <= limit
        assert not CONTROL.search(value)
        value.encode("utf-8")
        if name not in OPTIONAL:
            assert value.strip()
    assert type(request.expires_in) is int
    assert 1 <= request.expires_in <= 1000
    assert re.fullmatch(r"[0-9]{10,11}", request.receiver_hp)
    assert re.fullmatch(r"[0-9]{8}", request.receiver_birthday)
    dt.datetime.strptime(request.receiver_birthday, "%Y%m%d")
    assert type(request.allow_simple_regist) is bool
    assert type(request.verify_name) is bool


@SETTINGS
@given(fields=request_fields())
def test_any_request_fields_give_a_good_request_or_a_validation_error(
    fields: dict[str, Any],
) -> None:
    try:
        request = ESignRequest(**fields)
    except ValidationError as error:
        refused: ValidationError | None = error
    else:
        refused = None
    if refused is not None:
        assert refused.field in fields
        assert refused.code == -99999999
        return
    assert_good_request_data(request)
    _, api_calls, sent = run(lambda c: c.request_esign(CLIENT_CODE, request))
    assert api_calls == 1
    body = json.loads(sent[0].content)
    assert body["ReceiverHP"] == request.receiver_hp
    assert body["Token"] == request.token


@SETTINGS
@given(client_code=junk, receipt_id=junk)
def test_state_arguments_cannot_send_bad_data_or_change_the_path(
    client_code: object, receipt_id: object
) -> None:
    outcome, api_calls, sent = run(lambda c: c.get_esign_state(client_code, receipt_id))  # type: ignore[arg-type]
    if isinstance(outcome, ValidationError):
        assert outcome.field in {"client_code", "receipt_id"}
        assert api_calls == 0
        return
    assert isinstance(client_code, str)
    assert re.fullmatch(r"[0-9]{12}", client_code)
    assert isinstance(receipt_id, str)
    assert re.fullmatch(r"[0-9]{1,20}", receipt_id)
    assert [str(r.url) for r in sent] == [f"{API}/SignToken/Status/{receipt_id}"]


# What a URI path can hold raw (RFC 3986 pchar and "/"): a signature of these goes as given.
URI_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")


@SETTINGS
@given(receipt_id=junk, signature=st.one_of(st.none(), junk))
def test_verify_arguments_cannot_change_the_path(receipt_id: object, signature: object) -> None:
    outcome, api_calls, sent = run(
        lambda c: c.verify_esign(CLIENT_CODE, receipt_id, signature)  # type: ignore[arg-type]
    )
    if isinstance(outcome, ValidationError):
        assert outcome.field in {"receipt_id", "signature"}
        assert api_calls == 0
        return
    assert api_calls == 1
    raw_path = sent[0].url.raw_path.decode("ascii")
    prefix = f"/SignToken/Verify/{receipt_id}"
    assert raw_path.startswith(prefix)
    assert not sent[0].url.query
    if signature is None:
        assert raw_path == prefix
        return
    assert isinstance(signature, str)
    sent_signature = raw_path.removeprefix(prefix + "/")
    # Sent as given (as the official SDKs send it), but for what no URI can hold
    # raw, which httpx escapes; nothing is added, dropped or reordered.
    assert urllib.parse.unquote(sent_signature, errors="strict") == signature
    if URI_PATH.fullmatch(signature):
        assert sent_signature == signature
    assert not {".", ".."} & set(sent_signature.split("/"))


@SETTINGS
@given(app_to_app=junk)
def test_app_to_app_must_be_a_bool(app_to_app: object) -> None:
    outcome, api_calls, _ = run(
        lambda c: c.request_esign(CLIENT_CODE, make_request(), app_to_app)  # type: ignore[arg-type]
    )
    if isinstance(app_to_app, bool):
        assert api_calls == 1
    else:
        assert isinstance(outcome, ValidationError)
        assert outcome.field == "app_to_app"
        assert api_calls == 0


@SETTINGS
@given(timeout=junk, interval=junk)
def test_await_signed_arguments(timeout: object, interval: object) -> None:
    outcome, api_calls, _ = run(
        lambda c: c.await_signed(
            CLIENT_CODE, ESignReceipt(receipt_id=RECEIPT_ID), timeout=timeout, interval=interval
        ),  # type: ignore[arg-type]
        signed=True,
    )
    if isinstance(outcome, ValidationError):
        assert outcome.field in {"timeout", "interval"}
        assert api_calls == 0
    else:
        assert api_calls == 1


@pytest.mark.parametrize("field", [a.name for a in attrs.fields(ESignRequest)])
def test_every_field_has_a_validator(field: str) -> None:
    assert attrs.fields_dict(ESignRequest)[field].validator is not None


# End to end: what the sandbox receives ---------------------------------------------

REFUSED_SIGNATURES = ["../..", "a/../b", "?x=1", "#top", "%2F", "\\", "x y", "./"]
MISMATCHED_SIGNATURES = ["서명", "a/b", "+/x=", "x:y@z", 'q"uote', "/", "%", "a//b", "+//x=="]


@pytest.mark.parametrize(
    ("signature", "outcome"),
    [(s, ValidationError) for s in REFUSED_SIGNATURES]
    + [(s, APIError) for s in MISMATCHED_SIGNATURES],
)
async def test_a_wrong_signature_never_leaves_or_reaches_the_verify_of_its_receipt(
    signature: str, outcome: type[KakaocertError]
) -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox, sandbox.client() as client:
        code = sandbox.client_code
        receipt = await client.request_esign(code, make_request(), app_to_app=True)
        await sandbox.sign(receipt.receipt_id)
        with pytest.raises(outcome) as wrong:
            await client.verify_esign(code, receipt.receipt_id, signature)
        arrived = sandbox.stats["verify"]
        verified = await client.verify_esign(
            code, receipt.receipt_id, sandbox.signature(receipt.receipt_id)
        )
    if isinstance(wrong.value, ValidationError):
        # What would change the URL's meaning is refused before anything is sent.
        assert wrong.value.field == "signature"
        assert arrived == 0
    else:
        # Anything else reaches the verify route, for this receipt, with exactly
        # this signature, which is not the right one.
        assert wrong.value.code == Rejection.SIGNATURE_MISMATCH.code
        assert arrived == 1
    assert verified.receipt_id == receipt.receipt_id
    assert sandbox.stats["other"] == 0


@SETTINGS
@given(receipt_id=junk, signature=st.one_of(st.none(), junk))
def test_fuzzed_verify_arguments_reach_only_the_verify_route(
    receipt_id: object, signature: object
) -> None:
    async def main() -> KakaocertError:
        async with sandbox, sandbox.client() as client:
            try:
                await client.verify_esign(sandbox.client_code, receipt_id, signature)  # type: ignore[arg-type]
            except KakaocertError as error:
                return error
        raise AssertionError("no such receipt: the verify cannot succeed")

    sandbox = Sandbox(sign_after=None)
    outcome = asyncio.run(main())
    if isinstance(outcome, ValidationError):
        assert sandbox.stats["verify"] == 0
    else:
        assert isinstance(outcome, APIError)
        assert outcome.code in {Rejection.RECEIPT_UNKNOWN.code, Rejection.RECEIPT_ID_INVALID.code}
        assert sandbox.stats["verify"] == 1
    assert sandbox.stats["other"] == 0


# Control characters, by Unicode category ---------------------------------------------

_LINE_CHARACTERS = "\t\n\r"
"""The only control characters free text may hold."""


@given(st.characters())
@settings(max_examples=3000, deadline=None)
def test_text_refuses_every_control_character_and_nothing_else(character: str) -> None:
    # Unicode's Cc is C0, DEL and C1 (U+0080-U+009F: CSI, NEL, ...); Cs, the lone
    # surrogates, cannot be sent at all. Everything else is text.
    refused = unicodedata.category(character) in ("Cc", "Cs")
    if character in _LINE_CHARACTERS:
        refused = False
    if refused:
        with pytest.raises(ValidationError, match=r"^\[-99999999\] tms_title: "):
            check_text("tms_title", f"a{character}b", max_length=None)
    else:
        check_text("tms_title", f"a{character}b", max_length=None)


CONTROLS = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"]
C1 = [chr(code) for code in range(0x80, 0xA0)]


def test_every_control_character_is_refused() -> None:
    assert len(CONTROLS) == 65  # C0 (32), DEL, C1 (32)
    for character in CONTROLS:
        if character in _LINE_CHARACTERS:
            check_text("tms_title", f"a{character}b", max_length=None)
            continue
        with pytest.raises(ValidationError, match="tms_title: must not contain control"):
            check_text("tms_title", f"a{character}b", max_length=None)


@pytest.mark.parametrize("character", C1, ids=lambda c: f"U+{ord(c):04X}")
def test_both_clients_refuse_c1_controls_in_their_text(character: str) -> None:
    with pytest.raises(ValidationError, match="tms_title: must not contain control"):
        make_request(tms_title=f"약관{character}동의")
    with pytest.raises(ValidationError, match="sign_title: must not contain control"):
        barocert_request(Kind.SIGN, sign_title=f"약관{character}동의")
    with pytest.raises(ValidationError, match="receiver_name: must not contain control"):
        barocert_request(Kind.IDENTITY, receiver_name=f"홍{character}길동")


@SETTINGS
@given(tx_id=st.one_of(junk, st.sampled_from(["01ab+cd=ef", "a//b", "/x/", "%zz", "é/한"])))
def test_a_login_tx_id_reaches_its_login_as_given_or_is_refused(tx_id: object) -> None:
    """Barocert's login verify, by the rule of every path value: what is not refused
    reaches the sandbox's login route and names that very login (the rest of the path,
    decoded); what is refused is never sent."""
    sandbox = Sandbox(sign_after=None)
    try:
        path_value(tx_id, "tx_id")
    except ValidationError:
        valid = False
    else:
        valid = True
        sandbox.barocert.login(tx_id=tx_id)  # type: ignore[arg-type]

    async def main() -> object:
        async with sandbox, sandbox.barocert_client() as client:
            try:
                return await client.verify_login(sandbox.client_code, tx_id)  # type: ignore[arg-type]
            except KakaocertError as error:
                return error

    outcome = asyncio.run(main())
    if valid:
        assert isinstance(outcome, LoginVerification)
        assert outcome.tx_id == tx_id
    else:
        assert isinstance(outcome, ValidationError)
        assert outcome.field == "tx_id"
    assert sandbox.stats["barocert.login.verify"] == int(valid)
    assert sandbox.stats["other"] == 0
