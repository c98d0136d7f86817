"""Progress while a signature is awaited: a live line on a terminal, plain lines otherwise.

``progress_for(stream)`` picks one: a rich live display (spinner, state, seconds
left, ticking between polls) when ``stream`` is a terminal and rich is installed
(the ``cli`` extra), else :class:`PlainProgress`, which prints a line when the
state changes and, while pending, every ``heartbeat`` seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import math
import time
from collections.abc import AsyncGenerator, Callable
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from kakaocert_async._models import Status

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

Clock = Callable[[], float]
_Self = TypeVar("_Self", bound="Progress")
S = TypeVar("S", bound="StatusLike")


class StatusLike(Status, Protocol):
    """A status of either generation (2.x's ``StatusBase``, Barocert's ``Status``), as
    the polling loop reads it, with its state's name and when it was opened."""

    @property
    def state(self) -> enum.IntEnum: ...
    @property
    def view_dt(self) -> dt.datetime | None: ...


def signed(status: StatusLike) -> bool:
    """Whether the receiver signed: state 1 in both generations (SIGNED, COMPLETED)."""
    return status.is_final and int(status.state) == 1


HEARTBEAT = 30.0
"""Seconds between plain lines while nothing changes."""


def describe(status: StatusLike, now: float) -> str:
    """One status in words, by its state's name: ``pending, 57 s left``,
    ``pending (opened), 3 s left``, ``signed`` or ``expired`` (Barocert: ``waiting``,
    ``completed``, ``refused``, ...). ``now`` is epoch seconds."""
    name = status.state.name.lower()
    if status.is_final:
        return name
    text = f"{name} (opened)" if status.view_dt is not None else name
    if status.expire_dt is not None:
        expires_at = status.expire_dt.timestamp()
    elif status.request_dt is not None and status.expires_in is not None:
        expires_at = status.request_dt.timestamp() + status.expires_in
    else:
        return text  # the seconds left are unknown
    return f"{text}, {math.ceil(max(expires_at - now, 0.0))} s left"


@attrs.define
class Progress:
    """Shows the states of one receipt as they are read (this one shows nothing:
    ``--quiet``); a context manager, entered while they are. Each line is ``indent``
    spaces, ``label``, then the state in words."""

    _out: Any = None
    """Where: a stream (:class:`PlainProgress`) or a rich console (:class:`RichProgress`)."""
    _label: str = attrs.field(default="", kw_only=True)
    _indent: int = attrs.field(default=0, kw_only=True)
    _clock: Clock = attrs.field(default=time.time, kw_only=True)
    _last: StatusLike | None = attrs.field(default=None, init=False)

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def update(self, status: StatusLike) -> None:
        self._last = status

    def _line(self, status: StatusLike, now: float, mark: str = "") -> str:
        return f"{' ' * self._indent}{mark}{self._label}{describe(status, now)}"


@attrs.define
class PlainProgress(Progress):
    """One line per change of state (or opening), and a heartbeat line while pending."""

    _heartbeat: float = attrs.field(default=HEARTBEAT, kw_only=True)
    _shown: tuple[int, bool] | None = attrs.field(default=None, init=False)
    _shown_at: float = attrs.field(default=0.0, init=False)

    def update(self, status: StatusLike) -> None:
        now = self._clock()
        key = (status.state, status.view_dt is not None)
        if key == self._shown and now - self._shown_at < self._heartbeat:
            return
        self._shown, self._shown_at = key, now
        print(self._line(status, now), file=self._out, flush=True)


# The last line a rich display leaves: still pending (None), signed, or ended unsigned.
_MARKS = {None: ("… ", "yellow"), True: ("✔ ", "bold green"), False: ("✘ ", "bold red")}


@attrs.define
class RichProgress(Progress):
    """A spinner with the state and the seconds left, redrawn several times a second;
    on exit it leaves one line: the last state read."""

    _live: Live = attrs.field(init=False)

    @_live.default
    def _display(self) -> Live:
        from rich.live import Live
        from rich.padding import Padding
        from rich.spinner import Spinner

        # The spinner's text is this object, rendered anew each frame: the seconds tick.
        spinner = Spinner("dots", text=self, style="cyan")
        return Live(
            Padding(spinner, (0, 0, 0, self._indent)),
            console=self._out,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __rich__(self) -> Text:
        from rich.text import Text

        last = self._last
        return Text(
            self._label + ("reading the state" if last is None else describe(last, self._clock()))
        )

    def __enter__(self) -> RichProgress:
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._live.stop()
        if (last := self._last) is not None:
            mark, style = _MARKS[signed(last) if last.is_final else None]
            line = self._line(last, self._clock(), mark)
            self._out.print(line, style=style, highlight=False, markup=False)

    def update(self, status: StatusLike) -> None:
        super().update(status)
        self._live.refresh()


def console(stream: IO[str]) -> Console | None:
    """A rich console on ``stream`` if it is a terminal and rich (the ``cli`` extra) is
    installed: lines styled, and progress live."""
    if stream.isatty():
        with contextlib.suppress(ImportError):
            from rich.console import Console

            return Console(file=stream)
    return None


async def follow(states: AsyncGenerator[S, None], progress: Progress) -> tuple[S, S]:
    """Show each state of ``states`` (a client's ``watch_state``) on ``progress``, and
    return the first read and the last, which is final."""
    first = last = None
    with progress:
        async with contextlib.aclosing(states):
            async for last in states:
                first = first or last
                progress.update(last)
    assert last is not None  # watch_state yields or raises
    return first or last, last


def progress_for(
    stream: IO[str], *, quiet: bool = False, label: str = "", indent: int = 0
) -> Progress:
    """The progress display for ``stream``: rich on a terminal, plain lines otherwise
    (none with ``quiet``)."""
    if quiet:
        return Progress()
    rich = console(stream)
    if rich is not None:
        return RichProgress(rich, label=label, indent=indent)
    return PlainProgress(stream, label=label, indent=indent)
