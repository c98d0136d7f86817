"""What every command shares: the parser, exit codes, errors, the environment and JSON."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import re
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from types import FrameType
from typing import Any, NoReturn, TypeAlias, TypeVar

import attrs
import cattrs

from kakaocert_async import _kinds
from kakaocert_async._env import Environment
from kakaocert_async._errors import (
    CLIENT_ERROR_CODE,
    APIError,
    KakaocertError,
    MalformedResponse,
    RequestNotSent,
    ServiceUnreachable,
    SignTimeout,
    TransportError,
    ValidationError,
    VerifyOutcomeUnknown,
)
from kakaocert_async._models import SignState
from kakaocert_async._secret import Secret
from kakaocert_async.barocert import State
from kakaocert_async.barocert import _kinds as barocert_kinds

PROG = "kakaocert-async"

EXIT_OK = 0
"""Done (for ``wait`` and ``demo``: signed)."""
EXIT_ERROR = 1
"""Any error, bad arguments included."""
EXIT_EXPIRED = 2
"""The request expired before it was signed."""
EXIT_TIMEOUT = 3
"""``--timeout`` passed (or the receipt outlived its expiry) while still pending."""
EXIT_OUTCOME_UNKNOWN = 4
"""Ctrl+C while a verify or request was in flight, and its answer did not come: it may
have gone through (see :func:`shielded`)."""
EXIT_INTERRUPTED = 130
"""Ctrl+C (before anything was sent, or while waiting or polling)."""

INTERRUPT_WAIT = 5.0
"""Seconds a verify or request in flight is still awaited after Ctrl+C (the client's
timeout, which bounds the call, is 10)."""

CALL_CENTER_VAR = "KAKAOCERT_CALL_CENTER"
DEBUG_VAR = "KAKAOCERT_DEBUG"

T = TypeVar("T")

RECEIVER = {"receiver_name": "--name", "receiver_hp": "--phone", "receiver_birthday": "--birthday"}
RENAMED = {
    **RECEIVER,
    "tms_title": "--title",
    "req_title": "--title",
    "tms_message": "--message",
    "extra_message": "--message",
    "call_center_num": "--call-center",
    "documents": "--document",
    "receipt_id": "ID",
    "tx_id": "TXID",
}
"""The flags (and arguments) not named ``--field-name`` after their field."""


def flag_of(field: str) -> str:
    """The flag (or argument) that gives ``field``."""
    return RENAMED.get(field) or "--" + field.replace("_", "-")


@functools.cache
def _fields() -> frozenset[str]:
    """What a ValidationError may name that a flag gave: each kind's request's fields,
    and the other arguments of the commands."""
    requests = {kind.request for kind in (*_kinds.KINDS, *barocert_kinds.KINDS)}
    named = {field.name for request in requests for field in attrs.fields(request)}
    return frozenset({*named, "receipt_id", "tx_id", "signature", "interval", "timeout"})


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr and exit 1.

    (argparse's own status, 2, means "expired" here.) Subparsers inherit the class.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers()`` returns: each command adds its parser to it."""
Runner: TypeAlias = Callable[[argparse.Namespace], int]
"""What a command's parser sets as ``run``: its exit status, given its arguments."""


class CommandError(Exception):
    """A failure the command explains in one line; ``status`` is the exit code."""

    def __init__(self, message: str, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def revealed(value: Any) -> Any:
    """A flag's value, for the request: a flag of personal data is a :class:`Secret`
    (shown in no repr, so in no frame's locals) until it goes into the request."""
    return value.reveal() if isinstance(value, Secret) else value


# The kinds of the SDK's errors, in their words: the first the error is an instance of.
_ERROR_KINDS: tuple[tuple[type[KakaocertError], str], ...] = (
    (APIError, "service error"),
    (VerifyOutcomeUnknown, "verify outcome unknown"),
    (RequestNotSent, "cannot connect"),
    (MalformedResponse, "unreadable answer"),
    (TransportError, "connection failed"),
    (SignTimeout, "timed out"),
    (ServiceUnreachable, "service unreachable"),
    (KakaocertError, "error"),
)


def describe_error(exc: KakaocertError) -> str:
    """The one-line message for one of the SDK's errors: what kind, and its own words."""
    if isinstance(exc, ValidationError):
        flag = f" ({flag_of(exc.field)})" if exc.field in _fields() else ""
        return exc.message + flag
    kind = next(words for cls, words in _ERROR_KINDS if isinstance(exc, cls))
    detail = exc.message if exc.code == CLIENT_ERROR_CODE else str(exc)
    return f"{kind}: {detail}"


def report(message: str) -> None:
    """Write ``kakaocert-async: MESSAGE`` as one line to stderr (its line breaks as spaces)."""
    line = re.sub(r"\s*[\r\n]+\s*", " ", message).strip()
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)


def run(command: Coroutine[Any, Any, int]) -> int:
    """Run an async command; map every failure to its exit code and a one-line message."""
    try:
        return asyncio.run(command)
    except (Interrupted, CommandError) as exc:
        report(exc.message)
        return exc.status
    except KeyboardInterrupt:
        report("interrupted")
        return EXIT_INTERRUPTED
    except KakaocertError as exc:
        report(describe_error(exc))
        return EXIT_TIMEOUT if isinstance(exc, SignTimeout) else EXIT_ERROR
    except Exception as exc:
        if os.environ.get(DEBUG_VAR):
            raise
        report(f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_VAR}=1 to see the traceback)")
        return EXIT_ERROR


def command(body: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]) -> Runner:
    """``body(args)``, an async command, as the ``run`` its parser sets (see :func:`run`)."""
    return lambda args: run(body(args))


# Ctrl+C during a call the service takes once --------------------------------------


class Interrupted(KeyboardInterrupt):
    """A second Ctrl+C while :func:`shielded` waited: ``message`` says what is unknown."""

    status = EXIT_OUTCOME_UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def shielded(call: Awaitable[T], *, what: str, kept: Callable[[T], str], unknown: str) -> T:
    """Await ``call`` (``what``: a verify or a request) so that Ctrl+C keeps its answer.

    The service answers a verify once, and a request may have sent a message, so
    Ctrl+C once the call has started does not cancel it: it is awaited up to
    :data:`INTERRUPT_WAIT` seconds more. If it ends in time, it ends the command as
    it would have (its result, with ``kept(result)`` on stderr, or its error); if
    not, or on a second Ctrl+C, the command ends with ``unknown`` on stderr and
    :data:`EXIT_OUTCOME_UNKNOWN`. Ctrl+C at any other time stays as it was
    (:data:`EXIT_INTERRUPTED`), and so does the call outside the main thread or where
    SIGINT is ignored.

    SIGINT has a handler of its own while the call runs, the same on every Python
    (3.10's ``asyncio.run`` lets KeyboardInterrupt out wherever it lands, 3.11's
    cancels the main task): the first press wakes this coroutine, the second raises
    :class:`Interrupted` at once.
    """
    # The call's error is its outcome, not the task's: a task left with an error when a
    # second Ctrl+C stops the loop would be printed, traceback and all, by asyncio.run.
    task = asyncio.ensure_future(_outcome(call))
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or threading.current_thread() is not threading.main_thread():
        return _result(await task)
    loop = asyncio.get_running_loop()
    pressed = loop.create_future()
    presses = 0

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal presses
        presses += 1
        if presses > 1:
            raise Interrupted(unknown)
        loop.call_soon_threadsafe(pressed.set_result, None)  # the first press only

    signal.signal(signal.SIGINT, on_sigint)
    try:
        await asyncio.wait({task, pressed}, return_when=asyncio.FIRST_COMPLETED)
        if presses and not task.done():
            report(
                f"interrupted: waiting up to {INTERRUPT_WAIT:g} s for the answer to {what}"
                " already under way (Ctrl+C again to stop now)"
            )
            await asyncio.wait({task}, timeout=INTERRUPT_WAIT)
            if not task.done():
                raise CommandError(unknown, EXIT_OUTCOME_UNKNOWN)
        result = _result(task.result())
        if presses:
            report(kept(result))
        return result
    finally:
        if signal.getsignal(signal.SIGINT) is on_sigint:
            signal.signal(signal.SIGINT, previous)
        task.cancel()


async def _outcome(call: Awaitable[T]) -> T | Exception:
    """``call``'s result, or its error: returned, not raised (see :func:`shielded`)."""
    try:
        return await call
    except Exception as error:
        return error


def _result(outcome: T | Exception) -> T:
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def shielded_request(call: Awaitable[Any], *, group: str) -> Any:
    """:func:`shielded` for a request; ``group`` is the command's (``esign``, ``barocert sign``)."""
    return await shielded(
        call,
        what="the request",
        kept=lambda receipt: (
            f"interrupted, but the request had been sent: its receipt id, {receipt.receipt_id},"
            f" is printed; `{PROG} {group} wait {receipt.receipt_id}` follows it"
        ),
        unknown=(
            "interrupted before the request's answer came: it may have been sent (a KakaoTalk"
            " message may have gone out), and no receipt id is known"
        ),
    )


async def shielded_verify(call: Awaitable[T], receipt_id: str, *, group: str | None) -> T:
    """:func:`shielded` for a verify of ``receipt_id``; ``group`` is the command's, whose
    ``state`` shows ``verify_dt`` (``None`` for a login, which has no state)."""
    if group is None:
        consumed = f"login tx {receipt_id} may have been consumed"
        check = "a login has no state to read: if it matters, have the user log in again"
    else:
        consumed = f"receipt {receipt_id} may have been consumed"
        check = f"`{PROG} {group} state {receipt_id}` shows verify_dt if it went through"
    return await shielded(
        call,
        what="the verify",
        kept=lambda _: (
            "interrupted, but the verify's answer came: its signed data is printed"
            " (keep it: the service answers a verify once)"
        ),
        unknown=(
            f"interrupted before the verify's answer came: {consumed} (the service answers a"
            f" verify once), and the outcome is unknown; {check}"
        ),
    )


# The service, from the environment ----------------------------------------------


@contextlib.asynccontextmanager
async def connected(client_class: type[Any]) -> AsyncIterator[Any]:
    """A client of ``client_class`` from its environment variables (the client code
    required: every command needs one), bound to that client code; a
    :class:`ValidationError` names what is missing, and suggests the sandbox."""
    environment = Environment.from_env(variables=client_class.variables)
    async with environment.client(client_class) as client:
        yield client.for_client()


# JSON output ------------------------------------------------------------------------

_json = cattrs.Converter()
_json.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
_json.register_unstructure_hook(SignState, lambda state: state.name.lower())
_json.register_unstructure_hook(State, lambda state: state.name.lower())


def to_plain(model: object) -> dict[str, object]:
    """A model as a dict of its (snake_case) field names; datetimes as ISO 8601 strings,
    a state by its name: ``"pending"``, ``"signed"`` or ``"expired"`` (Barocert's
    ``"waiting"``, ``"completed"``, ``"expired"``, ``"refused"``, ``"failed"``)."""
    data: dict[str, object] = _json.unstructure(model)
    return data


def to_json(model: object) -> str:
    """One line of JSON: :func:`to_plain` of ``model``."""
    return json.dumps(to_plain(model), ensure_ascii=False)
