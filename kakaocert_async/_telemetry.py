"""What the SDK tells the people who run it: a log record per exchange and per retry, and spans.

**Logs.** Every exchange on the wire, answered or not (a timeout, a reset, a
cancellation), is one DEBUG record; every decision to try again is one INFO record.
Each carries its facts as ``extra`` fields (``kakaocert_call``, ``kakaocert_generation``,
``kakaocert_attempt``, ``kakaocert_status`` or ``kakaocert_failure``,
``kakaocert_elapsed_ms``, ``kakaocert_bytes_sent``, ``kakaocert_bytes_received``), and
says them in its message too. Nothing in them is a secret, a token, personal data or
an App to App signature: the call is named by its label, in which the clients mask
what a path must not show. ``KAKAOCERT_LOG=info`` or ``debug`` (:func:`log_from_env`)
shows them on stderr when the application shows them nowhere else (:func:`show_logs`,
the one handler the SDK ever adds; ``kakaocert_async.arq`` uses it too).

**Spans**, when OpenTelemetry's API is installed (the ``[otel]`` extra) and a tracer
provider is set: one per operation (:func:`operation`), and one per wait with each
poll beneath it (:func:`wait`). Without either, nothing is imported and nothing is
made. A span started beneath an operation whose path holds a masked value (an HTTP
instrumentation's, say) has that value masked in its URL attributes too
(:func:`_masking`, a span processor added to an SDK tracer provider once).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import time
import urllib.parse
from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._errors import APIError, Progress, ValidationError
from ._version import __version__

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger("kakaocert_async")

T = TypeVar("T")

# Logging ------------------------------------------------------------------------

HANDLER = "kakaocert_async: the SDK's own stderr handler"
"""The name of the one handler :func:`show_logs` adds."""
LOG_VARIABLE = "KAKAOCERT_LOG"
_LEVELS = {"info": logging.INFO, "debug": logging.DEBUG}
_log_read = False


def show_logs(level: int) -> None:
    """Show the SDK's records from ``level`` up on stderr, wherever no other handler
    shows them.

    Adds (once per process; a later call may only lower its level) a handler to the
    ``kakaocert_async`` logger that passes a record on only while no other handler
    (but a ``NullHandler``) meets it on its way up: logging the application
    configured, before or after, is never doubled. Lowers the logger's level to
    ``level`` if it would drop such records.
    """
    handler = next((handler for handler in log.handlers if handler.name == HANDLER), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.set_name(HANDLER)
        handler.setLevel(level)
        handler.setFormatter(
            logging.Formatter("%(asctime)s: %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        handler.addFilter(_shown_nowhere_else)
        log.addHandler(handler)
    elif handler.level > level:
        handler.setLevel(level)
    if log.getEffectiveLevel() > level:
        log.setLevel(level)


def _shown_nowhere_else(record: logging.LogRecord) -> bool:
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        for handler in logger.handlers:
            if handler.name != HANDLER and not isinstance(handler, logging.NullHandler):
                return False
        logger = logger.parent if logger.propagate else None
    return True


def log_from_env(environ: Mapping[str, str] = os.environ) -> None:
    """Read ``KAKAOCERT_LOG`` (once per process, when the first client is made):
    ``info`` shows the retries, ``debug`` every exchange too (:func:`show_logs`).

    Raises:
        ValidationError: the variable holds anything else (unset or empty is fine).
    """
    global _log_read
    if _log_read:
        return
    value = environ.get(LOG_VARIABLE, "").strip()
    level = _LEVELS.get(value.lower())
    if value and level is None:
        raise ValidationError(LOG_VARIABLE, f"must be info or debug (or unset), got {value[:20]!r}")
    _log_read = True
    if level is not None:
        show_logs(level)


@attrs.define
class Exchange:
    """Which call an exchange on the wire belongs to: ``label`` names it (never a
    secret), ``call`` is the operation (``request``, ``state``, ``verify``, ``token``,
    ``time``), ``attempt`` its number."""

    label: str
    call: str
    generation: str
    attempt: int = 1

    def fields(self, status: int | None, **more: object) -> dict[str, object]:
        """A record's ``extra`` fields: which exchange, its ``status`` (if any), and ``more``."""
        return {
            "kakaocert_call": self.call,
            "kakaocert_label": self.label,
            "kakaocert_generation": self.generation,
            "kakaocert_attempt": self.attempt,
            "kakaocert_status": status,
            **more,
        }


def exchanged(
    about: Exchange,
    started: float,
    sent: int,
    *,
    status: int | None = None,
    received: int | None = None,
    failure: str | None = None,
    progress: Progress | None = None,
) -> None:
    """One exchange, begun at ``started`` (``time.perf_counter()``) with ``sent`` bytes,
    ended: answered with ``status`` and ``received`` bytes, or not, ``failure`` saying how
    (``timeout``, ``cancelled``, the library's error class) and ``progress`` how far it
    got. A DEBUG record, and the facts on the current span."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    span = _current_span()
    if span is not None:
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        span.set_attribute("kakaocert.attempts", about.attempt)
    if not log.isEnabledFor(logging.DEBUG):
        return  # (nothing built for a record no one reads: every call passes here)
    fields = about.fields(
        status,
        kakaocert_failure=failure,
        kakaocert_progress=None if progress is None else progress.name.lower(),
        kakaocert_elapsed_ms=round(elapsed_ms, 1),
        kakaocert_bytes_sent=sent,
        kakaocert_bytes_received=received,
    )
    if status is not None:
        outcome = f"HTTP {status}, {sent} bytes sent, {received} received"
    else:
        outcome = f"{failure} when {fields['kakaocert_progress']}, {sent} bytes sent"
    log.debug(
        "%s [%s %s, attempt %d]: %s, %.1f ms",
        about.label,
        about.generation,
        about.call,
        about.attempt,
        outcome,
        elapsed_ms,
        extra=fields,
    )


def retrying(about: Exchange, error: Exception, wait: float, *, of: int) -> None:
    """The one loop decided to try ``about.attempt`` after ``wait`` seconds, ``error``
    having ended the last (at most ``of`` attempts): an INFO record, and a span event."""
    log.info(
        "%s: %s; trying again in %.2f s (attempt %d of %d)",
        about.label,
        error,
        wait,
        about.attempt,
        of,
        extra=about.fields(
            error.http_status if isinstance(error, APIError) else None,
            kakaocert_retry=(about.label, about.attempt, wait),
            kakaocert_error=type(error).__name__,
            kakaocert_wait_s=round(wait, 3),
        ),
    )
    span = _current_span()
    if span is not None:
        span.add_event(
            "retry",
            {
                "kakaocert.attempt": about.attempt,
                "error.type": type(error).__name__,
                "wait_s": wait,
            },
        )


# Spans ---------------------------------------------------------------------------

_trace: Any = None
"""``opentelemetry.trace`` once looked for; ``False`` if it is not installed."""
_tracers: dict[object, Tracer] = {}
"""The SDK's tracer from each tracer provider, which was given the masking processor then."""
_named_in_env = False
"""Whether the environment names a tracer provider (``OTEL_PYTHON_TRACER_PROVIDER``)."""


def _tracer() -> Tracer | None:
    """The SDK's tracer, or ``None`` when OpenTelemetry is absent or no tracer provider
    is set (then nothing is made at all)."""
    global _trace, _named_in_env
    if _trace is None:
        try:
            from opentelemetry import trace
        except ImportError:
            _trace = False
        else:
            _trace = trace
            _named_in_env = "OTEL_PYTHON_TRACER_PROVIDER" in os.environ
    if _trace is False:
        return None
    # Until a provider is set, get_tracer_provider() looks for one named in os.environ
    # on every call, which costs every operation more than the rest of this: its global
    # tells first. (A private name, read only if present; tests/test_telemetry.py fails
    # if it stops meaning "no provider set yet".)
    if getattr(_trace, "_TRACER_PROVIDER", _trace) is None and not _named_in_env:
        return None
    provider = _trace.get_tracer_provider()
    if isinstance(provider, _trace.ProxyTracerProvider):
        return None
    if provider not in _tracers:  # (given the masking processor once)
        if hasattr(provider, "add_span_processor"):
            provider.add_span_processor(_masking())
        _tracers[provider] = provider.get_tracer("kakaocert_async", __version__)
    return _tracers[provider]


_operation: contextvars.ContextVar[tuple[Span, tuple[str, str] | None] | None] = (
    contextvars.ContextVar("kakaocert_async_operation", default=None)
)
"""Within an operation that has a span: that span (what its exchanges and retries tell),
and, if its path holds a value not to show, the path up to that value and what is shown
instead of the rest (what :func:`_masking` masks in the spans started beneath it)."""


def _current_span() -> Span | None:
    """The span of the operation under way, if it has one and records."""
    current = _operation.get()
    return current[0] if current is not None and current[0].is_recording() else None


def _failed(span: Span, error: BaseException) -> None:
    span.set_attribute("error.type", type(error).__qualname__)
    span.set_status(_trace.StatusCode.ERROR, str(error))


def operation(
    call: str,
    *,
    generation: str,
    method: str,
    api_url: str,
    path: str,
    label: str,
    client_code: str,
    traced: Traced,
) -> contextlib.AbstractContextManager[None]:
    """A span for one operation (all its attempts) while it runs, current: a CLIENT
    span named ``kakaocert_async {call}``. It goes to ``api_url`` + ``path``; ``label``
    (``METHOD path``) shows the path with any value not to show masked."""
    tracer = _tracer()
    if tracer is None:
        return _UNTRACED  # (every call passes here: nothing made when nothing is traced)
    url, shown = api_url + path, api_url + label.partition(" ")[2]
    parts = urllib.parse.urlsplit(url)
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "server.address": parts.hostname or "",
        "server.port": parts.port or (443 if parts.scheme == "https" else 80),
        "kakaocert.operation": call,
        "kakaocert.generation": generation,
        "kakaocert.client_code": client_code,
    }
    attributes.update({"kakaocert.kind": traced.kind, "url.template": traced.template})
    if traced.receipt_id is not None:
        attributes["kakaocert.receipt_id"] = traced.receipt_id
    return _spanned(tracer, f"kakaocert_async {call}", attributes, url, shown)


_UNTRACED = contextlib.nullcontext()


@contextlib.contextmanager
def _spanned(
    tracer: Tracer, name: str, attributes: dict[str, Any], url: str, shown: str
) -> Iterator[None]:
    masked = None
    if shown != url:
        common = os.path.commonprefix([url, shown])  # noqa: RUF071 -- by characters, meant
        common = common[: common.rindex("/") + 1]  # the masked value's whole segment
        masked = (urllib.parse.urlsplit(common).path, shown[len(common) :])
    with tracer.start_as_current_span(
        name,
        kind=_trace.SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        current = _operation.set((span, masked))
        try:
            yield
        except BaseException as error:
            _failed(span, error)
            raise
        finally:
            _operation.reset(current)


@attrs.define
class Traced:
    """What a client tells of an operation, for its span: the kind of receipt, the
    path's template (``url.template``), the receipt id (never personal data)."""

    kind: str
    template: str
    receipt_id: str | None = None


def wait(states: AsyncGenerator[T, None], attributes: dict[str, Any]) -> AsyncGenerator[T, None]:
    """The ``states`` of a wait (``await_signed``, ``watch_state``, ...) with a span of
    ``attributes`` for the wait, each poll's operation span beneath it: open from the
    first step until the last, and current while each is read. Made only when a tracer
    is: otherwise ``states`` as given."""
    tracer = _tracer()
    return states if tracer is None else _waited(tracer, states, attributes)


async def _waited(
    tracer: Tracer, states: AsyncGenerator[T, None], attributes: dict[str, Any]
) -> AsyncGenerator[T, None]:
    span = tracer.start_span(
        "kakaocert_async wait", kind=_trace.SpanKind.INTERNAL, attributes=attributes
    )
    polls = 0
    try:
        while True:
            # Current while the states' generator runs (it shares this task's context),
            # never while the caller holds a state; how the wait ends is said below.
            with _trace.use_span(span, record_exception=False, set_status_on_exception=False):
                try:
                    state = await states.__anext__()
                except StopAsyncIteration:
                    return
            polls += 1
            span.set_attribute("kakaocert.states_read", polls)
            yield state
    except GeneratorExit:
        raise
    except BaseException as error:
        _failed(span, error)
        raise
    finally:
        try:
            await states.aclose()
        finally:
            span.end()


def _masking() -> Any:
    """A span processor that masks, in the URL attributes of a span started within an
    operation whose path holds a value not to show, that value (as the operation's
    label does): an HTTP instrumentation's ``url.full`` of a verify with an App to App
    signature, say."""
    from opentelemetry.sdk.trace import SpanProcessor

    class Masking(SpanProcessor):
        def on_start(self, span: Any, parent_context: Any = None) -> None:
            current = _operation.get()
            if current is None or current[1] is None or not span.attributes:
                return
            prefix, shown = current[1]
            for key in ("url.full", "http.url", "url.path", "http.target"):
                value = span.attributes.get(key)
                if isinstance(value, str) and prefix in value:
                    span.set_attribute(key, value[: value.index(prefix) + len(prefix)] + shown)

    return Masking()
