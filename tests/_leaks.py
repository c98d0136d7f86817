"""The suite-wide guard: no KakaocertError shows a secret or personal data in its frames.

Error trackers (Sentry by default) and rich tracebacks record the ``repr()`` of every
local variable of every frame of a failure. Every ``KakaocertError`` made while a test
runs (in its setup, its call or its teardown; caught by ``pytest.raises`` or an
``except``, handed to a hook, or escaping the test) is checked: ``pytest.raises`` checks
the one it caught on the way out, and the end of each phase checks every other. The
frames of its traceback, and of its ``__cause__`` and ``__context__`` (shown or not)
and an exception group's members, are walked from the SDK's first frame inward (the
frames above are its caller's: the test, pytest, ``attrs.evolve``); the check fails,
naming the frame, the local and what it shows, if a local's repr, or the error's own
text, holds:

- a SecretKey: the sandbox's, each one a test module names (``SECRET_KEY``, ``RAW_KEY``,
  ...) and each one the SDK was given (as it decodes it): in base64, as raw bytes
  (``repr(bytes)``), as text and in hex;
- a value the SDK keeps in a ``Secret`` (session tokens as they arrive, signature
  headers) and each HMAC it computes (``_signing.hmac_b64``);
- a personal field given to a request model (a field its repr masks: the receiver's
  name, phone and birthday, the bank details, Barocert's encrypted fields).

Not walked: the test code's own frames (under ``tests/``: they hold what the test chose
to hold), and the sandbox's server (it is given the key, the tokens and the signatures it
checks, by design). There is no switch: ``tests/conftest.py`` installs it for every run.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import enum
import functools
import inspect
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

import attrs
import pytest

import kakaocert_async
from kakaocert_async import _secret, _signing, barocert
from kakaocert_async._errors import KakaocertError
from kakaocert_async.sandbox import DEFAULT_SECRET_KEY

TESTS = Path(__file__).resolve().parent
MIN_NEEDLE = 6
"""Bytes (UTF-8) a value must have to be searched for: "CMS" or "004" show up anywhere."""

MIN_RAW_KEY = 12
"""Bytes a raw key must have to be searched for in its raw forms."""

_lock = threading.Lock()
_made: list[KakaocertError] = []
"""The errors made since the last check."""
_keys: dict[str, str] = {}
"""What shows a SecretKey -> what it is; kept for the whole run."""
_needles: dict[str, str] = {}
"""What shows a token, a signature or personal data -> what it is; kept per test."""
_version = 0
"""Bumped whenever a table changes, to compile the search again."""


# What counts as a leak ----------------------------------------------------------------------


def _add(where: dict[str, str], shown: str, what: str) -> None:
    global _version
    if len(shown.encode("utf-8", "surrogatepass")) >= MIN_NEEDLE and shown not in where:
        with _lock:
            where.setdefault(shown, what)
            _version += 1


def add_key(secret_key: object, raw: bytes | None = None, *, source: str = "") -> None:
    """A SecretKey (base64 ``str``) or its raw bytes: every form of it counts."""
    if isinstance(secret_key, str):
        _add(_keys, secret_key, f"the SecretKey {source}(base64)")
        _add(_keys, "".join(secret_key.split()), f"the SecretKey {source}(base64)")
        if raw is None:
            try:
                raw = base64.b64decode("".join(secret_key.split()), validate=True)
            except (binascii.Error, ValueError):
                return
    if raw is None and isinstance(secret_key, bytes):
        raw = secret_key
    if raw is None or len(raw) < MIN_RAW_KEY:  # b"secret" would be found in "<secret>"
        return
    _add(_keys, base64.b64encode(raw).decode(), f"the SecretKey {source}(base64)")
    _add(_keys, repr(raw)[2:-1], f"the raw SecretKey {source}(bytes)")
    _add(_keys, raw.hex(), f"the raw SecretKey {source}(hex)")
    text = raw.decode("latin-1")
    if text.isprintable():
        _add(_keys, text, f"the raw SecretKey {source}(as text)")


def add_secret(value: object, what: str) -> None:
    """A token, a signature or a personal value (per test)."""
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        _add(_needles, value, what)
    elif isinstance(value, bytes) and len(value) <= 64:
        _add(_needles, repr(value)[2:-1], what)


def _search(shown: str) -> list[str]:
    with _lock:
        version = _version
    return _found(shown, version)


GRAM = 6
"""Characters of a needle's first piece, by which it is found (a shorter one is searched
for whole)."""
_index: tuple[int, dict[str, str], dict[str, list[str]], list[str]] = (-1, {}, {}, [])


@functools.lru_cache(maxsize=8192)
def _found(shown: str, version: int) -> list[str]:
    # Each of some 2,000 secrets is looked for by its first GRAM characters among the
    # pieces of ``shown`` (one regular expression of them all took some 0.7 ms a local);
    # and cached: the same locals (a client's headers, a policy) show up in the frames
    # of error after error.
    global _index
    if _index[0] != version:
        with _lock:
            table = {**_needles, **_keys}
        pieces: dict[str, list[str]] = {}
        for needle in (n for n in table if len(n) >= GRAM):
            pieces.setdefault(needle[:GRAM], []).append(needle)
        _index = (version, table, pieces, [n for n in table if len(n) < GRAM])
    _, table, pieces, short = _index
    found = {shown[i : i + GRAM] for i in range(len(shown) - GRAM + 1)} & pieces.keys()
    hits = [n for piece in found for n in pieces[piece] if n in shown]
    hits += [n for n in short if n in shown]
    return sorted({table[n] for n in hits})


# Walking a failure ----------------------------------------------------------------------------


_GROUP: Any = vars(builtins).get("BaseExceptionGroup")  # Python 3.11 and later


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
        if _GROUP is not None and isinstance(current, _GROUP):
            stack += current.exceptions


def _frames(tb: TracebackType | None) -> Iterator[TracebackType]:
    """The traceback's entries from the first of the SDK's inward (the ones above are its
    caller's: the test, pytest, ``attrs.evolve``...), except the test code's own and the
    sandbox server's."""
    entered = False
    while tb is not None:
        place = tb.tb_frame.f_code.co_filename
        entered = entered or _is_sdk(place)
        if entered and not _under(place, TESTS) and not _is_sandbox_server(place):
            yield tb
        tb = tb.tb_next


PACKAGE = Path(kakaocert_async.__file__).resolve().parent
SANDBOX_CLIENT_SIDE = {"__init__.py", "_sandbox.py", "_settings.py", "_transport.py"}
"""The sandbox's modules that the user's code calls; the rest is the server, which holds
the partner's key, and the tokens and signatures it checks, by design (and prints its key
on its banner: it is a test double's)."""


def _under(place: str, directory: Path) -> bool:
    return place.startswith(str(directory)) and Path(place).resolve().is_relative_to(directory)


def _is_sdk(place: str) -> bool:
    # attrs names the methods it generates "<attrs generated init kakaocert_async....>".
    return _under(place, PACKAGE) or (place.startswith("<attrs") and "kakaocert_async" in place)


def _is_sandbox_server(place: str) -> bool:
    path = Path(place)
    return _under(place, PACKAGE / "sandbox") and path.name not in SANDBOX_CLIENT_SIDE


def _shown(value: object) -> str:
    try:
        return repr(value)
    except Exception as exc:  # a repr that raises breaks every traceback printer
        return f"<repr raised {type(exc).__name__}>"


def leaks(error: BaseException) -> list[str]:
    """What in ``error``'s chain shows a secret, one line per local (or message)."""
    found: list[str] = []
    for current in _chain(error):
        label = f"{type(current).__name__}: {str(current)[:120]}"
        texts = [str(current), repr(current.args), *getattr(current, "__notes__", [])]
        for what in _search("\n".join(texts)):
            found.append(f"[{label}] its message shows {what}")
        for entry in _frames(current.__traceback__):
            frame = entry.tb_frame
            place = f"{frame.f_code.co_filename}:{entry.tb_lineno} in {frame.f_code.co_name}"
            for name, value in frame.f_locals.items():
                shown = _shown(value)
                if shown.startswith("<repr raised") and _is_ours(value):
                    found.append(f"[{label}] {place}: local {name!r}: {shown}")
                for what in _search(shown):
                    found.append(f"[{label}] {place}: local {name!r} shows {what}")
    return found


def _is_ours(value: object) -> bool:
    return type(value).__module__.startswith("kakaocert_async")


def check(errors: list[KakaocertError]) -> None:
    """Fail if any of ``errors`` shows a secret (each failure named once)."""
    found: list[str] = []
    for error in errors:
        found += [line for line in leaks(error) if line not in found]
    if found:
        pytest.fail(
            "secrets or personal data in a KakaocertError (error trackers record these):\n  "
            + "\n  ".join(found),
            pytrace=False,
        )


def take_made() -> list[KakaocertError]:
    with _lock:
        made = _made[:]
        _made.clear()
    return made


# Collecting: the errors, and the secrets as the SDK meets them ------------------------------


def _wrap(owner: Any, name: str, after: Callable[..., None]) -> None:
    original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        after(result, *args, **kwargs)
        return result

    setattr(owner, name, wrapped)


def _made_error(_: None, error: KakaocertError, *args: Any, **kwargs: Any) -> None:
    """After ``KakaocertError.__init__``: kept until checked."""
    with _lock:
        _made.append(error)


def _decoded_key(raw: bytes, secret_key: object, *args: Any) -> None:
    add_key(secret_key, raw, source="given to the SDK ")


def _wrapped_secret(_: None, wrapper: object, value: object) -> None:
    add_secret(value, "a value the SDK keeps in Secret (a token, a signature header)")
    if isinstance(value, bytes) and b"session_token" in value:
        try:
            token = json.loads(value).get("session_token")
        except (ValueError, AttributeError):
            return
        add_secret(token, "a session token")


def _hmac(signature: str, *args: Any) -> None:
    add_secret(signature, "an HMAC signature")


def _personal_fields(cls: type[Any]) -> frozenset[str]:
    """The fields a model's repr masks: the personal ones."""
    return frozenset(field.name for field in attrs.fields(cls) if field.repr is not True)


def _record_personal(cls: type[Any]) -> None:
    personal = _personal_fields(cls)
    signature = inspect.signature(cls)

    original = cls.__init__

    @functools.wraps(original)
    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        try:
            given = signature.bind_partial(*args, **kwargs).arguments
        except TypeError:
            given = kwargs
        for name, value in given.items():
            if name in personal:
                add_secret(value, f"personal data ({cls.__qualname__}.{name})")
        original(self, *args, **kwargs)

    cls.__init__ = __init__


REQUESTS = (
    kakaocert_async.ESignRequest,
    kakaocert_async.VerifyAuthRequest,
    kakaocert_async.CMSRequest,
    barocert.IdentityRequest,
    barocert.SignRequest,
    barocert.MultiSignRequest,
    barocert.CMSRequest,
    barocert.SignDocument,
)
"""The models that carry personal data in."""


def install() -> None:
    """Start collecting (once, when the suite's conftest is imported)."""
    _wrap(KakaocertError, "__init__", _made_error)
    _wrap(_signing, "decode_secret_key", _decoded_key)
    _wrap(_secret.Secret, "__init__", _wrapped_secret)
    _wrap(_signing, "hmac_b64", _hmac)
    for cls in REQUESTS:
        _record_personal(cls)
    add_key(DEFAULT_SECRET_KEY, source="of the sandbox ")
    pytest.raises = _checked_raises(pytest.raises)  # type: ignore[assignment]


def add_module_keys(module: ModuleType) -> None:
    """The keys a test module names (``SECRET_KEY``, ``RAW_KEY``, ``OTHER_KEY``, ...)."""
    for name, value in vars(module).items():
        if "KEY" in name and isinstance(value, str | bytes):
            add_key(value, source=f"{module.__name__}.{name} ")


def new_test() -> None:
    global _version
    with _lock:
        _needles.clear()
        _version += 1


def per_example(test: Callable[..., Any]) -> Callable[..., Any]:
    """A hypothesis test whose every example is a test of its own for the guard (its
    ``inner_test``, wrapped): the errors of one example are checked against its secrets."""

    def example(*args: Any, **kwargs: Any) -> Any:
        check(take_made())  # what came before, against what it knew
        new_test()
        try:
            return test(*args, **kwargs)
        finally:
            check(take_made())

    example._per_example = True  # type: ignore[attr-defined]
    return functools.wraps(test)(example)


# pytest.raises, checked on the way out ---------------------------------------------------------


def _checked_raises(raises: Any) -> Any:
    @functools.wraps(raises)
    def checked(*args: Any, **kwargs: Any) -> Any:
        result = raises(*args, **kwargs)
        if isinstance(result, pytest.ExceptionInfo):  # raises(E, func, *args)
            _check_raised(result.value)
            return result
        return _Checked(result)

    return checked


class _Checked:
    """``pytest.raises``'s context manager, checking the error it caught."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __enter__(self) -> Any:
        return self._inner.__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        suppressed = self._inner.__exit__(*exc_info)
        if suppressed:
            _check_raised(exc_info[1])
        return suppressed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _check_raised(error: BaseException | None) -> None:
    if error is not None and any(isinstance(e, KakaocertError) for e in _chain(error)):
        with _lock:  # checked now: not again at the end of the test
            _made[:] = [made for made in _made if made is not error]
        check([error])
