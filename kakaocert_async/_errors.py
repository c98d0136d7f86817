"""The exceptions this SDK raises, and nothing else.

Every error carries ``code`` (an int) and ``message`` (a str), like the official
SDKs' ``KakaocertException``. ``code`` is the service's own negative 8-digit code
when the service sent one; errors found on this side use ``-99999999``, as the
official SDKs do. ::

    KakaocertError
    ├── ValidationError        (also ValueError)  bad input, found before any network call
    ├── APIError                                  the service answered with an error
    ├── TransportError                            no usable answer: connect/read failure, timeout
    │   ├── RequestNotSent                        could not connect: the request never left
    │   ├── MalformedResponse                     an answer came, but not one we can read
    │   └── VerifyOutcomeUnknown                  a verify was sent and its answer was lost
    ├── SignTimeout            (also TimeoutError) await_signed ran out of time while pending
    ├── ServiceUnreachable                        a wait read no state at all: the service was down
    └── ClientClosed                              the Client was closed (before or during the call)

Three questions every error answers for itself, so that no caller needs a table
of carve-outs: :attr:`~KakaocertError.progress` (how far did the exchange get?),
:attr:`~KakaocertError.is_transient` (may asking again later succeed?) and
:attr:`~KakaocertError.answer_lost` (may the service have done what was asked,
with its answer lost on the way back?), which follows from the first.

Every error pickles with its attributes (for process pools and job queues).

No message ever holds the secret key, a session token, a signature header or the
receiver's name, phone or birthday.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, NoReturn, Protocol

from ._secret import total_repr

CLIENT_ERROR_CODE = -99999999
"""The code of every error that did not come with a code from the service."""


class Progress(enum.IntEnum):
    """How far the exchange of a failed call got: ``error.progress``.

    In order; a call that was tried more than once reports its furthest attempt.
    """

    NOT_SENT = 0
    """The request never left: it was refused before any I/O, the connection could
    not be made, or its token or the clock could not be read."""
    PARTLY_SENT = 1
    """The request was not fully written: the service cannot have acted on it."""
    SENT = 2
    """The request was written and no answer came (or not in time): the service may
    have acted on it."""
    PARTLY_ANSWERED = 3
    """The answer was cut short: the service acted on it, or may have."""
    ANSWERED = 4
    """The whole answer came: an error answer, or one that could not be read."""


def _rebuild(cls: type[KakaocertError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """An error as pickled: its class, its message (``args``) and its attributes."""
    error = cls.__new__(cls, *args)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class KakaocertError(Exception):
    """Base of every error raised by ``kakaocert_async``. Its subclasses::

    KakaocertError
    ├── ValidationError      (also ValueError) bad input, found before any network call
    ├── APIError                               the service answered with an error
    │   └── barocert.VerifyTooLate             a verify past Barocert's 10 minutes
    ├── TransportError                         no usable answer: connection failed, timeout
    │   ├── RequestNotSent                     the request never left
    │   ├── MalformedResponse                  an answer came, but not one we can read
    │   └── VerifyOutcomeUnknown               a verify was sent and its answer was lost
    ├── SignTimeout          (also TimeoutError) a wait ran out of time while pending
    ├── ServiceUnreachable                     a wait read no state at all
    └── ClientClosed                           the Client was closed (before or during a call)
    """

    code: int
    message: str
    progress: Progress = Progress.NOT_SENT
    """How far the exchange got (:class:`Progress`): nothing was sent, unless the
    error says otherwise."""

    def __init__(self, message: str, *, code: int = CLIENT_ERROR_CODE) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: What went wrong.
            code: The service's error code, or ``-99999999`` for an error found on this side.
        """
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes survive (the default rebuilds from args alone).
        return _rebuild, (type(self), self.args, dict(self.__dict__))

    @property
    def is_transient(self) -> bool:
        """May the same call succeed if made again a little later? (A passing
        network or service failure, as opposed to a refusal or bad input.)"""
        return False

    @property
    def answer_lost(self) -> bool:
        """May the service have processed the call, its own answer never arriving?
        (What makes a lost verify an unknown outcome.) True when the request was
        sent and no whole answer came back (:attr:`progress`)."""
        return Progress.SENT <= self.progress <= Progress.PARTLY_ANSWERED


class ValidationError(KakaocertError, ValueError):
    """An argument breaks a documented limit; nothing was sent.

    ``field`` names the offending field or argument (e.g. ``"receiver_hp"``).
    """

    field: str

    def __init__(self, field: str, rule: str) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            field: The offending field or argument.
            rule: What it must be (the message is ``"{field}: {rule}"``).
        """
        super().__init__(f"{field}: {rule}")
        self.field = field


class APIError(KakaocertError):
    """The service (or a gateway in front of it) answered with an error.

    ``http_status`` is the HTTP status; ``code`` the service's error code, or
    ``-99999999`` when the body held none (an HTML page from a gateway, say),
    in which case ``message`` quotes the start of the body. ``message`` is the
    service's own text; for a refusal the caller likely caused (a wrong SecretKey
    or LinkID, a clock refused, a receipt unknown or verified twice), ``hint``
    says in English what to check or do next, and ``str(error)`` ends with it.
    """

    http_status: int
    progress = Progress.ANSWERED
    retry_after: float | None
    """Seconds the server asked to wait (``Retry-After``), if it said."""
    hint: str | None
    """What to check or do next, when the refusal says (``None`` otherwise)."""

    def __init__(
        self,
        message: str,
        *,
        code: int,
        http_status: int,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: The service's own text (or the start of the body).
            code: The service's error code, or ``-99999999`` when the body held none.
            http_status: The HTTP status.
            retry_after: Seconds the server asked to wait (``Retry-After``), if it said.
            hint: What to check or do next, if known.
        """
        super().__init__(message, code=code)
        self.http_status = http_status
        self.retry_after = retry_after
        self.hint = hint

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message} (HTTP {self.http_status})"
        return text if self.hint is None else f"{text} Hint: {self.hint}."

    @property
    def is_transient(self) -> bool:
        """A 429 or a 5xx: the service, or a gateway, is busy or failing for now."""
        return self.http_status == 429 or self.http_status >= 500

    @property
    def answer_lost(self) -> bool:
        """A 5xx without the service's error body: a gateway's page, which says
        nothing of what the service behind it did."""
        return (
            self.http_status >= 500
            and self.code == CLIENT_ERROR_CODE
            and self.progress is Progress.ANSWERED
        )


class TransportError(KakaocertError):
    """No usable answer came back: the connection failed, timed out or broke.

    :attr:`progress` says how far the exchange got; the underlying exception, if
    any, is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, progress: Progress = Progress.SENT) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: What went wrong.
            progress: How far the exchange got.
        """
        super().__init__(message)
        self.progress = progress

    @property
    def is_transient(self) -> bool:
        return True


class RequestNotSent(TransportError):
    """The request never left whole: the connection could not be made (refused, DNS,
    connect timeout), the request could not be written in full, or its token or the
    clock could not be read first.

    The service cannot have acted on it, so it is safe to send again, even
    ``request_esign``.
    """

    def __init__(self, message: str, *, progress: Progress = Progress.NOT_SENT) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: What went wrong.
            progress: How far the exchange got: not sent, or partly.
        """
        super().__init__(message, progress=progress)


class MalformedResponse(TransportError):
    """The service answered success, but the body is not what the protocol promises.

    ``http_status`` is the status that came with it. For a request, ``raw_answer`` (a
    :class:`RawAnswer`) keeps the answer: the service made the receipt, and its id may
    be in there.
    """

    http_status: int
    raw_answer: RawAnswer | None

    def __init__(
        self, message: str, *, http_status: int, raw_answer: RawAnswer | None = None
    ) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: What is wrong with the answer.
            http_status: The HTTP status that came with it.
            raw_answer: The answer, where it is worth keeping (a request's).
        """
        super().__init__(message, progress=Progress.ANSWERED)
        self.http_status = http_status
        self.raw_answer = raw_answer

    @property
    def is_transient(self) -> bool:
        """Asking again would get the same unreadable answer."""
        return False

    @property
    def answer_lost(self) -> bool:
        """The service answered success, so it did act: what it said is lost."""
        return self.progress is not Progress.NOT_SENT


class RawAnswer:
    """The body of an answer the SDK could not make sense of, kept for the caller.

    Shown as its size only (it may hold signed data, and so the signer's name):
    ``body`` is the bytes as decoded from the wire, ``text`` the same as text.
    """

    __slots__ = ("body",)

    def __init__(self, body: bytes) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            body: The answer's body, as decoded from the wire.
        """
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def __repr__(self) -> str:
        return f"<RawAnswer: {len(self.body)} bytes>"

    def __reduce__(self) -> tuple[Any, ...]:
        return RawAnswer, (self.body,)


class VerifyOutcomeUnknown(TransportError):
    """A verify request was sent, but its answer was lost or could not be read.

    The service answers verify only once per receipt, so the receipt may now be
    consumed and its signed data gone. It is never retried automatically: check
    the receipt's state (``verify_dt`` is set once a verify went through) and
    decide what to do. ``receipt_id`` names the receipt. When an answer came but
    was not what the protocol promises (another shape, another receipt),
    ``raw_answer`` (a :class:`RawAnswer`) holds it, so that you can store it:
    the signed data may be in there.
    """

    receipt_id: str
    raw_answer: RawAnswer | None

    def __init__(
        self,
        message: str,
        *,
        receipt_id: str,
        raw_answer: RawAnswer | None = None,
        progress: Progress = Progress.SENT,
    ) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: What happened, and how to find out whether the verify went through.
            receipt_id: The receipt verified.
            raw_answer: The answer that came but could not be read, if one did.
            progress: How far the exchange got.
        """
        super().__init__(message, progress=progress)
        self.receipt_id = receipt_id
        self.raw_answer = raw_answer

    @property
    def answer_lost(self) -> bool:
        return True

    @property
    def is_transient(self) -> bool:
        """Never: a verify is not repeated."""
        return False


class Status(Protocol):
    """What every kind of status has in common: what the polling loop reads (and what
    :attr:`SignTimeout.last_status` is; ``_models`` names it too)."""

    @property
    def receipt_id(self) -> str: ...
    @property
    def state(self) -> int: ...
    @property
    def is_final(self) -> bool:
        """True once the state will not change any more."""
        ...

    @property
    def expire_dt(self) -> dt.datetime | None: ...
    @property
    def request_dt(self) -> dt.datetime | None: ...
    @property
    def expires_in(self) -> int | None: ...


class SignTimeout(KakaocertError, TimeoutError):
    """``await_signed`` ran out of time while the receipt was still pending.

    ``last_status`` is the last state read (``None`` if no poll succeeded): an
    ``ESignStatus``, or the status class of the receipt's kind.
    """

    last_status: Status | None

    def __init__(self, message: str, *, last_status: Status | None) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: How long the wait took, and the last failure, if any.
            last_status: The last state read, or ``None``.
        """
        super().__init__(message)
        self.last_status = last_status


class ServiceUnreachable(KakaocertError):
    """A wait (``await_signed``, ``watch_state``, Barocert's ``await_completed``,
    ``watch_status``) ended without reading the receipt's state even once: every poll
    failed for a passing reason (no connection, a timeout, a 5xx, no token).

    Not a :class:`SignTimeout` (which says the receipt was still pending as last read),
    so that a handler can answer the two apart, one ``except`` clause each (408 and 503,
    say). A wait that read a state, and whose last polls then failed, still ends with
    :class:`SignTimeout` (its ``last_status`` the state last read). ``last_error`` is
    the last poll's failure (also ``__cause__``); ``receipt_id`` names the receipt.
    Asking again later may succeed (:attr:`is_transient`).
    """

    receipt_id: str
    last_error: KakaocertError

    def __init__(self, message: str, *, receipt_id: str, last_error: KakaocertError) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: How long the wait took, and the last failure.
            receipt_id: The receipt waited on.
            last_error: The last poll's failure.
        """
        super().__init__(message)
        self.receipt_id = receipt_id
        self.last_error = last_error

    @property
    def is_transient(self) -> bool:
        return True


class ClientClosed(KakaocertError):
    """The :class:`~kakaocert_async.Client` was closed before or while the call ran.

    Calls still in flight when ``aclose()``'s grace period ends stop with this
    error (not a bare ``CancelledError``), and so does a ``watch_state`` iterator
    made before the close; :attr:`progress` and :attr:`answer_lost` say whether
    the request had been sent (a verify cut short this way is a
    :class:`VerifyOutcomeUnknown` instead). Create a new Client to go on.
    """

    def __init__(self, message: str, *, progress: Progress = Progress.NOT_SENT) -> None:
        """Made by the SDK; make one in a test of your own handling.

        Args:
            message: What was closed, and when.
            progress: How far the exchange got.
        """
        super().__init__(message)
        self.progress = progress


# A half-built error, or answer, shows without raising.
total_repr(KakaocertError, APIError, RawAnswer)


def raise_alone(error: KakaocertError, *, cause: BaseException | None = None) -> NoReturn:
    """Raise ``error`` (from ``cause``, if given) with no ``__context__``. On Python 3.10
    the coroutines of a call that timed out may still hold the deadline's
    ``CancelledError`` as the exception being handled: a plain ``raise`` would chain it,
    and its frames hold the request's headers (the session token) for any error tracker
    to record."""
    if cause is not None:
        error.__cause__ = cause
    try:
        raise error
    finally:
        error.__context__ = None
