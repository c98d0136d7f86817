"""Injected misbehaviour: latency, 5xx answers and dropped connections, and when they strike.

A :class:`Fault` says what happens (``action``), at which endpoints, and when:
on every ``every``-th matching arrival, for ``times`` arrivals then no more,
inside a ``window`` of the sandbox clock; conditions combine (all must hold),
and a fault with none strikes on every matching arrival. :class:`FaultPlan`
holds the active faults and decides, per arrival, what the app must do.

Actions:

- ``delay``: wait ``seconds`` before answering (delays of all striking faults add up).
- ``error``: answer ``status`` (503 by default) with an HTML page, an empty body or
  an error JSON (``body``), without running the endpoint, or after running it
  when ``processed`` is true (a gateway timing out on a call that went through).
- ``drop``: run the endpoint (``processed``, the default), then start the answer
  and break the connection; the client sees a transport error (in-process, the
  app raises :class:`ConnectionDropped` and the sandbox's transport turns it into
  ``httpx.RemoteProtocolError``; a real server sends a truncated answer).

When several faults strike one arrival, the delays add up and the first
``error`` or ``drop`` added wins; each striking fault uses up one of its ``times``.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from kakaocert_async._secret import total_repr

from ._service import ENDPOINTS


class ConnectionDropped(Exception):
    """Raised by the app to break the connection mid-answer (a drop fault)."""


class Action(str, enum.Enum):
    """What a fault does."""

    DELAY = "delay"
    ERROR = "error"
    DROP = "drop"


class Body(str, enum.Enum):
    """What an ``error`` fault answers with."""

    HTML = "html"
    """A gateway's HTML error page."""
    EMPTY = "empty"
    """Nothing at all."""
    JSON = "json"
    """The protocol's error JSON, code ``-11090005``."""


class FaultSpecError(ValueError):
    """A fault that cannot be: the message says which option is wrong."""


def _window(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if not (isinstance(value, list | tuple) and len(value) == 2):
        raise FaultSpecError("window must be [start, end] seconds")
    start, end = _number(value[0]), _number(value[1])
    if not 0 <= start < end:
        raise FaultSpecError("window must be (start, end) seconds with 0 <= start < end")
    return start, end


def _whole(value: Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise FaultSpecError(f"expected a whole number, got {value!r}")


def _number(value: Any) -> float:
    if type(value) in (int, float) or isinstance(value, str):
        with contextlib.suppress(ValueError):
            return float(value)
    raise FaultSpecError(f"expected a number of seconds, got {value!r}")


def _flag(value: Any) -> bool:
    if type(value) is bool:
        return value
    if isinstance(value, str) and value.lower() in {"true", "yes", "1", "false", "no", "0"}:
        return value.lower() in {"true", "yes", "1"}
    raise FaultSpecError(f"expected true or false, got {value!r}")


def _names(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise FaultSpecError("endpoints must be a list of names")


def _positive(_: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise FaultSpecError(f"{attribute.name} must be a whole number of 1 or more")


def _check_endpoints(_: object, attribute: attrs.Attribute[Any], value: frozenset[str]) -> None:
    unknown = sorted(set(value) - set(ENDPOINTS))
    if unknown:
        raise FaultSpecError(f"unknown endpoints {unknown}; use {', '.join(ENDPOINTS)}")


def _check_status(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 400 <= value <= 599:
        raise FaultSpecError("status must be an HTTP error status, 400 to 599")


def _check_seconds(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not 0 <= value < float("inf"):
        raise FaultSpecError(f"{attribute.name} must be 0 or more seconds")


@attrs.frozen(kw_only=True)
class Fault:
    """One injected misbehaviour. See the module docstring for the rules.

    Built, it is checked: numbers and flags may come as their text (as :meth:`parse`
    reads them), and a value out of its field's range or of the wrong kind raises
    :class:`FaultSpecError` (an unknown ``action`` or ``body``: ``ValueError``);
    :meth:`from_options` and :meth:`parse` raise :class:`FaultSpecError` for all of them.

    Attributes:
        action: What it does: ``delay``, ``error`` or ``drop``.
        endpoints: Where it strikes: names from :data:`ENDPOINTS` (``time``, ``token``,
            e-sign's ``request``, ``status``, ``verify``, then ``identity.request`` ...
            ``cms.verify``); empty: all.
        every: Strike on the N-th, 2N-th, ... matching arrival since the fault was added.
        times: Strike this many times, then the fault is spent and removed.
        window: Strike only from ``start`` to ``end`` seconds after the fault was added
            (sandbox clock).
        seconds: ``delay``: the seconds to wait.
        status: ``error``: the HTTP status (400 to 599; 503 by default).
        body: ``error``: what the answer holds: ``html`` (the default), ``empty`` or
            ``json``.
        retry_after: ``error``: a ``Retry-After`` header, in seconds.
        processed: ``error`` / ``drop``: run the endpoint first (state changes happen);
            by default, true for ``drop`` only.
    """

    action: Action = attrs.field(converter=Action)
    endpoints: frozenset[str] = attrs.field(
        default=frozenset(), converter=_names, validator=_check_endpoints
    )
    every: int | None = attrs.field(
        default=None, converter=attrs.converters.optional(_whole), validator=_positive
    )
    times: int | None = attrs.field(
        default=None, converter=attrs.converters.optional(_whole), validator=_positive
    )
    window: tuple[float, float] | None = attrs.field(default=None, converter=_window)
    seconds: float = attrs.field(default=0.0, converter=_number, validator=_check_seconds)
    status: int = attrs.field(default=503, converter=_whole, validator=_check_status)
    body: Body = attrs.field(default=Body.HTML, converter=Body)
    retry_after: float | None = attrs.field(
        default=None, converter=attrs.converters.optional(_number), validator=_check_seconds
    )
    processed: bool = attrs.field(converter=_flag)

    @processed.default
    def _processed_by_default(self) -> bool:
        return self.action is Action.DROP

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """A fault from ``ACTION[:key=value,...]``, e.g. ``error:endpoint=status,every=3``.

        Keys are the field names (``endpoint`` may repeat, or join names with ``+``);
        ``window`` is ``START-END`` seconds. ``delay:0.2`` is short for ``delay:seconds=0.2``.

        Args:
            spec: The text.

        Returns:
            The fault.

        Raises:
            FaultSpecError: ``spec`` is not one: an item not ``key=value``, an unknown
                key, or a value the field cannot take.
        """
        action, _, rest = spec.strip().partition(":")
        options: dict[str, Any] = {}
        endpoints: list[str] = []
        for item in filter(None, (part.strip() for part in rest.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep:
                if action == Action.DELAY.value and not options:
                    key, value = "seconds", item
                else:
                    raise FaultSpecError(f"{item!r}: expected key=value")
            if key in {"endpoint", "endpoints"}:
                endpoints.extend(name.strip() for name in value.split("+"))
            elif key == "window":
                start, dash, end = value.partition("-")
                if not dash:
                    raise FaultSpecError("window must be START-END seconds, e.g. 10-20")
                options["window"] = (start, end)
            else:
                options[key] = value.strip()
        if endpoints:
            options["endpoints"] = endpoints
        return cls.from_options(action.strip(), options)

    @classmethod
    def from_options(cls, action: object, options: Mapping[str, Any]) -> Fault:
        """A fault from a mapping of field names to values (JSON values or CLI strings).

        Args:
            action: ``delay``, ``error`` or ``drop``.
            options: The other fields by name; a ``None`` value is the field's default
                for ``every``, ``times``, ``window`` and ``retry_after``.

        Returns:
            The fault.

        Raises:
            FaultSpecError: An unknown option, a value not of its field's kind, or a
                fault that cannot be (an unknown ``action`` too).
        """
        names = [field.name for field in attrs.fields(cls)[1:]]  # all but the action
        for key in options:
            if key not in names:
                raise FaultSpecError(f"unknown option {key!r}; use {', '.join(names)}")
        try:
            return cls(action=action, **options)
        except FaultSpecError:
            raise
        except (TypeError, ValueError) as exc:
            raise FaultSpecError(f"not a fault: {exc}") from None

    def spec(self) -> str:
        """The fault in :meth:`parse`'s syntax, naming only what differs from the defaults.

        Returns:
            The spec, e.g. ``error:endpoint=status,every=3``.
        """
        default = Fault(action=self.action).to_dict()
        parts = []
        for name, value in self.to_dict().items():
            if name == "action" or value == default[name]:
                continue
            if name == "endpoints":
                parts.append("endpoint=" + "+".join(value))
            elif name == "window":
                parts.append(f"window={value[0]:g}-{value[1]:g}")
            elif isinstance(value, bool | str):  # true or false, or an enum's value (json)
                parts.append(f"{name}={str(value).lower()}")
            else:
                parts.append(f"{name}={value:g}")
        return self.action.value + (":" + ",".join(parts) if parts else "")

    def to_dict(self) -> dict[str, Any]:
        """The fault as JSON-ready data; ``from_options(action, rest)`` reads it back.

        Returns:
            Every field by name: enums as their values, ``endpoints`` as a sorted list,
                ``window`` as a list.
        """
        return attrs.asdict(self, value_serializer=_plain)


def _plain(_: object, __: object, value: Any) -> Any:
    """A field's value as JSON data: enums as their values, sets sorted, pairs as lists."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, frozenset):
        return sorted(value)
    return list(value) if isinstance(value, tuple) else value


@attrs.frozen
class Decision:
    """What to do with one arrival."""

    delay: float = 0.0
    fault: Fault | None = None
    """The ``error`` or ``drop`` fault that strikes, if any."""


@attrs.define
class _Active:
    id: int
    fault: Fault
    added_at: float
    arrivals: int = 0
    struck: int = 0

    def strikes(self, endpoint: str, now: float) -> bool:
        fault = self.fault
        if fault.endpoints and endpoint not in fault.endpoints:
            return False
        if fault.window is not None:
            start, end = fault.window
            if not self.added_at + start <= now < self.added_at + end:
                return False
        self.arrivals += 1
        if fault.every is not None and self.arrivals % fault.every:
            return False
        self.struck += 1
        return True

    @property
    def spent(self) -> bool:
        return self.fault.times is not None and self.struck >= self.fault.times


class FaultPlan:
    """The active faults, in the order added; thread-safe.

    Args:
        clock: The sandbox clock (epoch seconds): when each fault is added, for its
            ``window``.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._active: list[_Active] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault) -> int:
        """Activate ``fault`` now; returns its id (for :meth:`remove`).

        Args:
            fault: The fault.

        Returns:
            Its id: 1, 2, ... in the order added.

        Raises:
            TypeError: ``fault`` is not a :class:`Fault`.
        """
        if not isinstance(fault, Fault):
            raise TypeError(f"expected a Fault, got {type(fault).__name__}")
        with self._lock:
            active = _Active(next(self._ids), fault, self._clock())
            self._active.append(active)
            return active.id

    def extend(self, faults: Iterable[Fault]) -> None:
        """Activate each of ``faults`` now, in order, as :meth:`add`.

        Args:
            faults: The faults.

        Raises:
            TypeError: One is not a :class:`Fault` (those before it stay active).
        """
        for fault in faults:
            self.add(fault)

    def remove(self, fault_id: int) -> bool:
        """Deactivate one fault; ``False`` if it was not active (or is spent).

        Args:
            fault_id: The id :meth:`add` returned.

        Returns:
            Whether it was active, and so is removed.
        """
        with self._lock:
            before = len(self._active)
            self._active = [a for a in self._active if a.id != fault_id]
            return len(self._active) < before

    def clear(self) -> None:
        """Deactivate every fault."""
        with self._lock:
            self._active = []

    def __len__(self) -> int:
        return len(self._active)

    def listing(self) -> list[dict[str, Any]]:
        """The active faults as JSON-ready data, with ids and how often each struck.

        Returns:
            One dict per fault, in the order added: ``id``, its fields (as
                :meth:`Fault.to_dict`), ``spec``, ``arrivals`` (the matching arrivals counted)
                and ``struck``.
        """
        with self._lock:
            return [
                {
                    "id": a.id,
                    **a.fault.to_dict(),
                    "spec": a.fault.spec(),
                    "arrivals": a.arrivals,
                    "struck": a.struck,
                }
                for a in self._active
            ]

    def decide(self, endpoint: str) -> Decision:
        """Count this arrival against every fault and say what happens to it.

        Args:
            endpoint: Where it arrived: a name from :data:`ENDPOINTS`.

        Returns:
            The delays of the striking ``delay`` faults added up, and the first striking
                ``error`` or ``drop`` fault, if any.
        """
        if not self._active:
            return Decision()
        with self._lock:
            now = self._clock()
            delay = 0.0
            chosen: Fault | None = None
            for active in self._active:
                if not active.strikes(endpoint, now):
                    continue
                if active.fault.action is Action.DELAY:
                    delay += active.fault.seconds
                elif chosen is None:
                    chosen = active.fault
            if any(a.spent for a in self._active):
                self._active = [a for a in self._active if not a.spent]
        return Decision(delay, chosen)


total_repr(Fault, Decision)  # a half-built one's repr does not raise
