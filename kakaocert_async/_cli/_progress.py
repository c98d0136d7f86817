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
from typing import IO, TYPE_CHECKING, Protocol, TypeVar

import attrs

from kakaocert_async._models import Status

if TYPE_CHECKING:
    from rich.console import Console
    from rich.padding import Padding

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


class Progress:
    """Shows the states of one receipt as they are read (this one shows nothing:
    ``--quiet``); a context manager, entered while they are."""

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def update(self, status: StatusLike) -> None:
        pass


@attrs.define
class PlainProgress(Progress):
    """One line per change of state (or opening), and a heartbeat line while pending."""

    _stream: IO[str]
    _label: str = attrs.field(default="", kw_only=True)
    _indent: int = attrs.field(default=0, kw_only=True)
    _clock: Clock = attrs.field(default=time.time, kw_only=True)
    _heartbeat: float = attrs.field(default=HEARTBEAT, kw_only=True)
    _shown: tuple[int, bool] | None = attrs.field(default=None, init=False)
    _shown_at: float = attrs.field(default=0.0, init=False)

    def update(self, status: StatusLike) -> None:
        now = self._clock()
        key = (status.state, status.view_dt is not None)
        if key == self._shown and now - self._shown_at < self._heartbeat:
            return
        self._shown, self._shown_at = key, now
        line = f"{' ' * self._indent}{self._label}{describe(status, now)}"
        print(line, file=self._stream, flush=True)


class RichProgress(Progress):
    """A spinner with the state and the seconds left, redrawn several times a second;
    on exit it leaves one line: the last state read."""

    def __init__(
        self, console: Console, *, label: str = "", indent: int = 0, clock: Clock = time.time
    ) -> None:
        from rich.live import Live
        from rich.padding import Padding
        from rich.spinner import Spinner

        self._console = console
        self._label = label
        self._indent = " " * indent
        self._clock = clock
        self._status: StatusLike | None = None
        self._spinner = Spinner("dots", text=f"{label}reading the state", style="cyan")
        self._renderable = Padding(self._spinner, (0, 0, 0, indent))
        self._live = Live(
            get_renderable=self._render,
            console=console,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __enter__(self) -> RichProgress:
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._live.stop()
        status = self._status
        if status is not None:
            if not status.is_final:
                mark, style = "… ", "yellow"
            elif signed(status):
                mark, style = "✔ ", "bold green"
            else:
                mark, style = "✘ ", "bold red"
            self._console.print(
                f"{self._indent}{mark}{self._label}{describe(status, self._clock())}",
                style=style,
                highlight=False,
                markup=False,
            )

    def update(self, status: StatusLike) -> None:
        self._status = status
        self._live.refresh()

    def _render(self) -> Padding:
        if self._status is not None:
            self._spinner.update(text=f"{self._label}{describe(self._status, self._clock())}")
        return self._renderable


class Lines:
    """Lines on a stream: styled by rich on a terminal (rich is the ``cli`` extra), plain
    otherwise."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.console: Console | None = None
        isatty = getattr(stream, "isatty", None)
        if callable(isatty) and isatty():
            with contextlib.suppress(ImportError):
                from rich.console import Console

                self.console = Console(file=stream)

    def line(self, text: str, style: str | None = None) -> None:
        if self.console is None:
            print(text, file=self.stream, flush=True)
        else:
            self.console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


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
    (none with ``quiet``). Each line is ``indent`` spaces, ``label``, then the state in
    words."""
    if quiet:
        return Progress()
    console = Lines(stream).console
    if console is not None:
        return RichProgress(console, label=label, indent=indent)
    return PlainProgress(stream, label=label, indent=indent)
