"""No SecretKey and no personal data in the frames of an error, and reprs that never raise.

Error trackers (Sentry, by default) and rich tracebacks record the ``repr()`` of every
local of every frame of a failure, as ``traceback.TracebackException(capture_locals=True)``
does. Each test here makes the SDK refuse something and searches the locals of every frame
the error (and its cause and context, shown or not) reaches, below this file's own.

The suite-wide guard (``tests/_leaks.py``) checks every other ``KakaocertError`` the
suite provokes the same way; the last test checks that the guard is in place and finds
what it looks for.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import inspect
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import attrs
import httpx
import pytest

import kakaocert_async
from kakaocert_async import Client, KakaocertError, ValidationError, _wire, arq, barocert, sandbox
from kakaocert_async._secret import Secret
from kakaocert_async.barocert import _crypto
from tests import _leaks

LINK_ID = "FRAMES"
RAW_KEY = b"frames: a 32-byte key to hide!!!"  # 32 bytes: Barocert's AES-256 key too
SECRET_KEY = base64.b64encode(RAW_KEY).decode()
SHORT_RAW_KEY = b"a 16-byte AESkey"  # a key Barocert refuses, but a key all the same
SHORT_KEY = base64.b64encode(SHORT_RAW_KEY).decode()
KEY_FORMS = [SECRET_KEY, repr(RAW_KEY)[2:-1], RAW_KEY.hex(), SHORT_KEY, repr(SHORT_RAW_KEY)[2:-1]]


def _locals_shown(error: BaseException) -> Iterator[tuple[str, str]]:
    """``(where, repr)`` of every local of every frame ``error`` and its chain reach, but
    the test code's (this file's, and the guard's ``tests/_leaks.py``)."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield "message", f"{current} {current.args!r}"
        for frame, _ in traceback.walk_tb(current.__traceback__):
            if not frame.f_code.co_filename.startswith(str(_leaks.TESTS)):
                for name, value in frame.f_locals.items():
                    yield f"{frame.f_code.co_name}: {name}", repr(value)
        stack += [e for e in (current.__cause__, current.__context__) if e is not None]


def _shown(error: BaseException, secrets: list[str]) -> list[str]:
    return [
        f"{where} = {text[:80]}"
        for where, text in _locals_shown(error)
        for s in secrets
        if s in text
    ]


# 1. The SecretKey, when a client refuses another argument ----------------------------------

REFUSED: dict[str, object] = {
    "link_id": "two words",
    "client_code": "12345",
    "base_url": "kakaocert-api.linkhub.co.kr",
    "auth_url": "ftp://auth.linkhub.co.kr",
    "timeout": 0,
    "use_server_time": "yes",
    "ip_restrict": 1,
    "max_connections": 0,
    "http_client": object(),
    "transport": object(),
    "on_unclaimed": 5,
}
"""A value each argument of both clients' constructors refuses."""


def _refused(make: Callable[[], object]) -> ValidationError:
    try:
        make()
    except ValidationError as error:
        return error
    raise AssertionError("not refused")


@pytest.mark.parametrize("client_class", [Client, barocert.Client], ids=["2.x", "barocert"])
@pytest.mark.parametrize("argument", sorted(REFUSED))
def test_a_refused_argument_leaves_the_secret_key_in_no_frame(
    client_class: type[Client] | type[barocert.Client], argument: str
) -> None:
    options = {argument: REFUSED[argument]}
    if argument == "link_id":
        error = _refused(lambda: client_class(REFUSED["link_id"], SECRET_KEY))  # type: ignore[arg-type]
    else:
        error = _refused(lambda: client_class(LINK_ID, SECRET_KEY, **options))  # type: ignore[arg-type]
    assert error.field == argument
    assert _shown(error, KEY_FORMS) == []


@pytest.mark.parametrize("client_class", [Client, barocert.Client], ids=["2.x", "barocert"])
@pytest.mark.parametrize(
    "environ",
    [
        {"SECRET_KEY": SECRET_KEY},  # the LinkID missing
        {"LINK_ID": LINK_ID, "SECRET_KEY": SECRET_KEY, "CLIENT_CODE": "12345"},
        {"LINK_ID": LINK_ID, "SECRET_KEY": SECRET_KEY, "API_URL": "kakaocert-api.linkhub.co.kr"},
        {"LINK_ID": "two words", "SECRET_KEY": SECRET_KEY},
    ],
    ids=["link id missing", "client code", "api url", "link id"],
)
def test_from_env_refusing_a_variable_leaves_the_secret_key_in_no_frame(
    client_class: type[Client] | type[barocert.Client], environ: dict[str, str]
) -> None:
    prefix = client_class.variables.prefix
    error = _refused(
        lambda: client_class.from_env({prefix + name: value for name, value in environ.items()})
    )
    assert error.field.startswith(prefix)
    assert _shown(error, KEY_FORMS) == []


def test_barocert_refusing_a_key_of_the_wrong_size_shows_it_in_no_frame() -> None:
    error = _refused(lambda: barocert.Client(LINK_ID, SHORT_KEY))
    assert error.field == "secret_key"
    assert "got 16 bytes" in error.message
    assert _shown(error, KEY_FORMS) == []
    with pytest.raises(ValueError, match="got 16 bytes") as refused:
        _crypto.Cipher(SHORT_RAW_KEY)
    assert _shown(refused.value, KEY_FORMS) == []


def test_the_sandbox_refusing_a_setting_or_a_client_option_shows_its_key_in_no_frame() -> None:
    error = _refused(lambda: sandbox.Sandbox(secret_key=SECRET_KEY, token_ttl=0))
    assert error.field == "token_ttl"
    assert _shown(error, KEY_FORMS) == []
    box = sandbox.Sandbox(secret_key=SECRET_KEY)
    for make in (box.client, box.barocert_client):
        error = _refused(lambda: make(max_connections=0))  # noqa: B023 -- called at once
        assert error.field == "max_connections"
        assert _shown(error, KEY_FORMS) == []


# 2. Personal data, when a request model refuses a field -------------------------------------

NAME, PHONE, BIRTHDAY = "비밀순이", "01097318642", "19830917"
PERSONAL = {
    "receiver_name": NAME,
    "receiver_hp": PHONE,
    "receiver_birthday": BIRTHDAY,
    "bank_account_name": "계좌주인",
    "bank_account_num": "3710265518",
    "client_user_id": "payer-5518-x",
    "extra_message": "비밀 부가메시지 7731",
    "token": "secret-nonce-5519",
    "request_corp": "비밀청구기관",
    "bank_name": "비밀은행",
    "bank_account_birthday": "19790304",
}
"""A value for every personal field (those the reprs mask) that no other could hold."""
REQUESTS: dict[type[Any], tuple[str, dict[str, Any]]] = {
    kakaocert_async.ESignRequest: ("tms_title", {"call_center_num": "1600-9854", "token": "원문"}),
    kakaocert_async.VerifyAuthRequest: (
        "tms_title",
        {"call_center_num": "1600-9854", "token": "nonce-7f3a"},
    ),
    kakaocert_async.CMSRequest: ("tms_title", {"call_center_num": "1600-9854", "bank_code": "004"}),
    barocert.IdentityRequest: ("req_title", {"expire_in": 300}),
    barocert.SignRequest: ("req_title", {"expire_in": 300, "token_type": "TEXT"}),
    barocert.MultiSignRequest: (
        "req_title",
        {
            "expire_in": 300,
            "token_type": "TEXT",
            "documents": [barocert.SignDocument(title="문서", token="비밀 문서 4410")],
        },
    ),
    barocert.CMSRequest: ("req_title", {"expire_in": 300, "bank_service_type": "CMS"}),
    barocert.SignDocument: ("title", {}),
}
"""Each model that takes personal data: its title field, and its other required fields."""


def _fields(cls: type[Any]) -> dict[str, Any]:
    """Every personal field of ``cls`` (its repr masks them) from :data:`PERSONAL`, its
    title and the rest."""
    names = {field.name for field in attrs.fields(cls) if field.repr is not True}
    title, others = REQUESTS[cls]
    return {**{k: v for k, v in PERSONAL.items() if k in names}, title: "제목", **others}


def test_every_model_with_personal_data_is_covered() -> None:
    masked = {
        cls
        for module in (kakaocert_async, barocert)
        for cls in map(module.__dict__.get, module.__all__)
        if attrs.has(cls)
        and any(field.repr is not True for field in attrs.fields(cls))
        and "Verification" not in cls.__name__  # answers: what the service sends back
    }
    assert masked == set(REQUESTS)
    for cls in REQUESTS:
        cls(**_fields(cls))  # each builds as given


REFUSED_FIELDS = {
    "receiver_hp": PHONE[:3] + "-" + PHONE[3:],
    "receiver_birthday": BIRTHDAY[:4] + "13" + BIRTHDAY[6:],
    "receiver_name": NAME + "\x00",
}
"""A personal field refused: its value is personal too."""


def _refusals() -> Iterator[Any]:
    for cls in REQUESTS:
        generation = "barocert" if "barocert" in cls.__module__ else "2.x"  # two CMSRequests
        fields = {field.name for field in attrs.fields(cls)}
        changes = [{REQUESTS[cls][0]: "제" * 41}]  # the title, not personal
        changes += [{name: value} for name, value in REFUSED_FIELDS.items() if name in fields]
        for change in changes:
            yield pytest.param(cls, change, id=f"{generation} {cls.__name__}-{next(iter(change))}")


@pytest.mark.parametrize(("cls", "change"), list(_refusals()))
def test_a_refused_field_leaves_no_personal_data_in_any_frame(
    cls: type[Any], change: dict[str, str]
) -> None:
    error = _refused(lambda: cls(**{**_fields(cls), **change}))
    assert error.field == next(iter(change))
    assert _shown(error, [*PERSONAL.values(), *REFUSED_FIELDS.values()]) == []
    # Refused where it was built: not through another error.
    assert error.__cause__ is None
    assert error.__context__ is None


@pytest.mark.parametrize("cls", list(REQUESTS), ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_models_still_evolve_and_structure_and_keep_their_signature(cls: type[Any]) -> None:
    title = REQUESTS[cls][0]
    request = cls(**_fields(cls))
    assert getattr(attrs.evolve(request, **{title: "다른 제목"}), title) == "다른 제목"
    assert _refused(lambda: attrs.evolve(request, **{title: "제" * 41})).field == title
    assert _wire.converter.structure(_plain(_wire.converter.unstructure(request)), cls) == request
    parameters = inspect.signature(cls).parameters
    assert set(_fields(cls)) <= set(parameters)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())


def _plain(data: Any) -> Any:
    """``data`` as JSON would bring it: enums as their values."""
    if isinstance(data, dict):
        return {key: _plain(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(value) for value in data]
    return data.value if isinstance(data, enum.Enum) else data


# 3. repr() is total, and shows nothing secret ---------------------------------------------


def _public_classes() -> list[type[Any]]:
    found = []
    for module in (kakaocert_async, barocert, sandbox, arq):
        for name in module.__all__:
            value = getattr(module, name)
            if (
                inspect.isclass(value)
                and not issubclass(value, enum.Enum)
                and Protocol not in value.__mro__
            ):
                found.append(value)
    return [*found, Secret]


@pytest.mark.parametrize(
    "cls", _public_classes(), ids=lambda cls: f"{cls.__module__}.{cls.__name__}"
)
def test_the_repr_of_a_half_built_object_never_raises(cls: type[Any]) -> None:
    half_built = cls.__new__(cls)
    assert repr(half_built)
    str(half_built)


def _built() -> Iterator[object]:
    """One of each public object that holds a secret or personal data, built with them."""
    client = Client(
        LINK_ID, SECRET_KEY, transport=httpx.MockTransport(lambda _: httpx.Response(500))
    )
    bc = barocert.Client(
        LINK_ID, SECRET_KEY, transport=httpx.MockTransport(lambda _: httpx.Response(500))
    )
    yield from (client, client.for_client("020040000001"), bc, bc.for_client("020040000001"))
    box = sandbox.Sandbox(secret_key=SECRET_KEY)
    yield from (box, box.settings)
    yield from (cls(**_fields(cls)) for cls in REQUESTS)
    signed = f"signed by {NAME} {PHONE}"
    verification = kakaocert_async.ESignVerification(receipt_id="1", signed_data=signed)
    yield verification
    yield barocert.Verification(receipt_id="1", signed_data=signed, receiver_name=NAME)
    yield barocert.MultiSignVerification(receipt_id="1", multi_signed_data=(signed,))
    yield barocert.LoginVerification(tx_id="1", signed_data=signed, receiver_hp=PHONE)
    raw = kakaocert_async.RawAnswer(signed.encode())
    yield raw
    yield kakaocert_async.VerifyOutcomeUnknown("lost", receipt_id="1", raw_answer=raw)
    yield kakaocert_async.UnclaimedAnswer(
        call="verify", receipt_id="1", result=verification, error=None
    )
    yield Secret(SECRET_KEY)
    yield arq.Signed(kind="esign", client_code="020040000001", receipt_id="1", signed_data=signed)
    now = dt.datetime.now(dt.timezone.utc)
    yield arq.Record(
        kind="esign", client_code="020040000001", receipt_id="1", stage=arq.Stage.VERIFIED,
        created_at=now, updated_at=now, signed_data=signed,
    )  # fmt: skip
    yield arq.ReceiptQueue(client=lambda: client)


async def test_no_public_object_shows_a_secret_or_personal_data() -> None:
    secrets = [*KEY_FORMS, *PERSONAL.values(), "비밀 문서 4410", "signed by"]
    shown = []
    for thing in _built():
        for text in (repr(thing), str(thing)):
            shown += [f"{type(thing).__name__}: {text}" for s in secrets if s in text]
        if isinstance(thing, Client | barocert.Client):
            await thing.aclose()
    assert shown == []


@pytest.mark.parametrize("client_class", [Client, barocert.Client], ids=["2.x", "barocert"])
def test_a_traceback_with_locals_of_a_half_built_client_prints_and_shows_no_key(
    client_class: type[Client] | type[barocert.Client],
) -> None:
    error = _refused(lambda: client_class(LINK_ID, SECRET_KEY, timeout=0))
    printed = "".join(
        traceback.TracebackException.from_exception(error, capture_locals=True).format()
    )
    assert f"<{client_class.__qualname__} (not built)>" in printed  # its __init__'s self
    assert [form for form in KEY_FORMS if form in printed] == []


# The guard itself ---------------------------------------------------------------------------


class _Leaky(KakaocertError):
    pass


def test_the_guard_is_in_place_and_finds_a_secret_in_an_sdk_frame() -> None:
    assert hasattr(pytest.raises, "__wrapped__")  # checks what it caught
    assert hasattr(KakaocertError.__init__, "__wrapped__")  # keeps every error made
    # A frame of the SDK (by its file name) holding the key and a receiver's phone.
    source = "def leak(key, phone, name):\n    raise _Leaky('refused')\n"
    code = compile(source, str(_leaks.PACKAGE / "_leaky.py"), "exec")
    namespace: dict[str, Any] = {"_Leaky": _Leaky}
    exec(code, namespace)  # noqa: S102 -- a made-up SDK frame, for the guard to find
    _leaks.add_secret(PHONE, "a receiver's phone")
    name = "김철수"  # three characters (nine bytes): shorter than the pieces searched by
    try:
        namespace["leak"](SECRET_KEY, PHONE, name)
    except _Leaky as error:
        before = _leaks.leaks(error)  # (searched, and cached, before the name counts)
        _leaks.add_secret(name, "a receiver's name")
        found = _leaks.leaks(error)
        error.__traceback__ = None  # made to leak: not this test's failure
    assert any("local 'key' shows the SecretKey" in line for line in found), found
    assert any("local 'phone' shows a receiver's phone" in line for line in found), found
    assert not any("local 'name'" in line for line in before), before
    assert any("local 'name' shows a receiver's name" in line for line in found), found


def test_attrs_and_cattrs_leave_a_secret_closed() -> None:
    """An object that holds the SecretKey, turned into a dict by ``attrs.asdict`` or cattrs
    (as a log line, a structlog processor or an error tracker's serializer may), still holds
    it as a :class:`Secret`: were ``Secret`` an attrs class, both would open it."""
    import cattrs

    from kakaocert_async._env import Environment

    environ = {"KAKAOCERT_LINK_ID": LINK_ID, "KAKAOCERT_SECRET_KEY": SECRET_KEY}
    environment = Environment.from_env(
        environ, variables=Client.variables, client_code_required=False
    )
    for data in (attrs.asdict(environment), cattrs.Converter().unstructure(environment)):
        assert isinstance(data["secret_key"], Secret)
        assert [form for form in KEY_FORMS if form in repr(data)] == []
