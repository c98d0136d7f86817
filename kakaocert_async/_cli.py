"""The command line, ``kakaocert-async COMMAND`` (also ``python -m kakaocert_async``).

Commands: ``request``, ``state``, ``wait`` and ``verify`` call the service with
the credentials of the ``KAKAOCERT_*`` environment variables (e-signatures; the
same four for each family under ``esign``, ``identity`` and ``cms``, and for
Barocert's kinds under ``barocert``, with ``BAROCERT_*``); ``demo`` runs a whole
signature on the in-process sandbox (or ``--live``); ``sandbox`` (its parser and
its run in ``sandbox._cli``) serves the sandbox on a port. Each command is a
subparser that sets ``run(args) -> int``.

The service commands are built from the kinds' table (``_kinds``,
``barocert._kinds``) and their models, the same for each: a kind's group is its
name (``cms``; ``barocert.multi_sign`` is ``barocert multi-sign``), its calls go
through the client's generic operations, and its ``request`` has a flag per field
of its request model (:class:`Flag`), so a new kind needs nothing here. The bare
commands are the e-signature's, as they always were; ``barocert`` also holds
``verify-login``. Each command reads the credentials from its generation's
environment variables, prints its result on stdout (plain, or one JSON object with
``--json``) and reports any failure as one line on stderr. ``demo`` is made of the
same parts: e-sign's request flags, the polling flags, the progress display.

Exit status: 0 done (signed, for ``wait`` and ``demo``), 2 expired, 3 timed out,
1 any other error (bad arguments included), with one line on stderr; 130 Ctrl+C,
and 4 Ctrl+C while a verify or request was in flight and its answer did not come
(the outcome unknown). See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import enum
import inspect
import json
import math
import os
import re
import signal
import sys
import threading
import time
import types
import typing
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeAlias, TypeVar, cast

import attrs
import cattrs

from kakaocert_async import _kinds, barocert
from kakaocert_async._arguments import seconds
from kakaocert_async._client import BoundClient, Client
from kakaocert_async._env import Environment, Variables
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
from kakaocert_async._kinds import ESIGN, AnyKind
from kakaocert_async._models import DEFAULT_EXPIRES_IN, ESignRequest, SignState
from kakaocert_async._secret import Secret
from kakaocert_async._version import __version__
from kakaocert_async.barocert import _kinds as barocert_kinds
from kakaocert_async.sandbox import _cli as sandbox_cli

if TYPE_CHECKING:
    from rich.console import Console
    from rich.status import Status
    from rich.text import Text


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


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr and exit 1.

    (argparse's own status, 2, means "expired" here.) Subparsers inherit the class, and
    its help laid out as written (the epilogs' lines are tables).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers()`` returns: each command adds its parser to it."""


@attrs.define
class CommandError(Exception):
    """A failure the command explains in one line; ``status`` is the exit code."""

    message: str
    status: int = EXIT_ERROR


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


_ARGUMENTS = {"receipt_id", "tx_id", "signature", "interval", "timeout"}
"""The commands' arguments besides a request's fields."""


def describe_error(exc: KakaocertError) -> str:
    """The one-line message for one of the SDK's errors: what kind, and its own words."""
    if isinstance(exc, ValidationError):
        # What a flag gave: a request's field or a command's argument (not a field of a
        # request's part, a document's title, say, nor an environment variable).
        kinds = (*_kinds.KINDS, *barocert_kinds.KINDS)
        flagged = {a.name for kind in kinds for a in attrs.fields(kind.request)} | _ARGUMENTS
        flag = f" ({flag_of(exc.field)})" if exc.field in flagged else ""
        return exc.message + flag
    kind = next(words for cls, words in _ERROR_KINDS if isinstance(exc, cls))
    detail = exc.message if exc.code == CLIENT_ERROR_CODE else str(exc)
    return f"{kind}: {detail}"


def report(message: str) -> None:
    """Write ``kakaocert-async: MESSAGE`` as one line to stderr (its line breaks as spaces)."""
    line = re.sub(r"\s*[\r\n]+\s*", " ", message).strip()
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)


def command(body: Callable[[argparse.Namespace], Coroutine[Any, Any, int]]) -> Callable[..., int]:
    """``body(args)``, an async command, as the ``run`` its parser sets: its exit status,
    every failure mapped to its exit code and a one-line message."""

    def run(args: argparse.Namespace) -> int:
        try:
            return _run(body(args))
        except (Interrupted, CommandError) as exc:
            report(exc.message)
            return exc.status
        except KeyboardInterrupt:
            report("interrupted")
            return EXIT_INTERRUPTED
        except KakaocertError as exc:
            raw = getattr(exc, "raw_answer", None)  # an answer that came, unreadable
            if raw is not None:  # where the signed data or the receipt would have gone
                print(raw.text, flush=True)
            said = "; the answer, as it came, is on stdout" if raw is not None else ""
            report(describe_error(exc) + said)
            return EXIT_TIMEOUT if isinstance(exc, SignTimeout) else EXIT_ERROR
        except Exception as exc:
            if os.environ.get(DEBUG_VAR):
                raise
            report(
                f"unexpected {type(exc).__name__}: {exc} (set {DEBUG_VAR}=1 to see the traceback)"
            )
            return EXIT_ERROR

    return run


def _run(main: Coroutine[Any, Any, int]) -> int:
    """``asyncio.run(main)``, Ctrl+C the same on every Python: the first press cancels
    ``main``, which then ends in KeyboardInterrupt, as Python 3.11's does. (3.10's raises
    it wherever it lands: in a task's step, it leaves a task that nothing wakes again, and
    asyncio.run waits for it for ever.)"""
    ctrl_c = CtrlC(KeyboardInterrupt())

    async def cancelled_by_ctrl_c() -> int:
        task = asyncio.current_task()
        assert task is not None
        with ctrl_c.handling(task.cancel):
            return await main

    try:
        return asyncio.run(cancelled_by_ctrl_c())
    except asyncio.CancelledError:
        if ctrl_c.presses:
            raise KeyboardInterrupt from None
        raise


@attrs.define
class CtrlC:
    """SIGINT's handler while a block runs: the first press calls back on the event loop,
    a second raises ``second`` at once. Not set where SIGINT is ignored, nor outside the
    main thread (where it cannot be)."""

    second: KeyboardInterrupt
    presses: int = 0

    @contextlib.contextmanager
    def handling(self, first: Callable[[], object]) -> Iterator[CtrlC]:
        """The handler set while the block runs, ``first()`` on the first press."""
        loop = asyncio.get_running_loop()

        def on_sigint(signum: int, frame: types.FrameType | None) -> None:
            self.presses += 1
            if self.presses > 1:
                raise self.second
            loop.call_soon_threadsafe(first)

        previous = signal.getsignal(signal.SIGINT)
        if callable(previous) and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, on_sigint)
        try:
            yield self
        finally:
            if signal.getsignal(signal.SIGINT) is on_sigint:
                signal.signal(signal.SIGINT, previous)


# Ctrl+C during a call the service takes once --------------------------------------


@attrs.define
class Interrupted(KeyboardInterrupt):
    """A second Ctrl+C while :func:`shielded` waited: ``message`` says what is unknown."""

    message: str
    status: int = EXIT_OUTCOME_UNKNOWN


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

    SIGINT has a handler of its own while the call runs (:class:`CtrlC`): the first
    press wakes this coroutine, the second raises :class:`Interrupted` at once.
    """
    # The call's error is its outcome, not the task's: a task left with an error when a
    # second Ctrl+C stops the loop would be printed, traceback and all, by asyncio.run.
    task = asyncio.ensure_future(_outcome(call))
    pressed = asyncio.get_running_loop().create_future()
    with CtrlC(Interrupted(unknown)).handling(lambda: pressed.set_result(None)) as ctrl_c:
        try:
            await asyncio.wait({task, pressed}, return_when=asyncio.FIRST_COMPLETED)
            if ctrl_c.presses and not task.done():
                report(
                    f"interrupted: waiting up to {INTERRUPT_WAIT:g} s for the answer to {what}"
                    " already under way (Ctrl+C again to stop now)"
                )
                await asyncio.wait({task}, timeout=INTERRUPT_WAIT)
                if not task.done():
                    raise CommandError(unknown, EXIT_OUTCOME_UNKNOWN)
            result = task.result()
            if isinstance(result, Exception):
                raise result
            if ctrl_c.presses:
                report(kept(result))
            return result
        finally:
            task.cancel()


async def _outcome(call: Awaitable[T]) -> T | Exception:
    """``call``'s result, or its error: returned, not raised (see :func:`shielded`)."""
    try:
        return await call
    except Exception as error:
        return error


# The service, from the environment ----------------------------------------------


@contextlib.asynccontextmanager
async def connected(client_class: type[Any]) -> AsyncGenerator[Any, None]:
    """A client of ``client_class`` from its environment variables (the client code
    required: every command needs one), bound to that client code; a
    :class:`ValidationError` names what is missing, and suggests the sandbox."""
    environment = Environment.from_env(variables=client_class.variables)
    async with environment.client(client_class) as client:
        yield client.for_client()


# JSON output ------------------------------------------------------------------------

_json = cattrs.Converter()
_json.register_unstructure_hook(dt.datetime, dt.datetime.isoformat)
# The states of both generations (SignState, State: the models' only IntEnums) by name.
_json.register_unstructure_hook(enum.IntEnum, lambda state: state.name.lower())


def to_json(model: object) -> str:
    """One line of JSON: a model as an object of its (snake_case) field names; datetimes
    as ISO 8601 strings, a state by its name: ``"pending"``, ``"signed"`` or ``"expired"``
    (Barocert's ``"waiting"``, ``"completed"``, ``"expired"``, ``"refused"``, ``"failed"``)."""
    return json.dumps(_json.unstructure(model), ensure_ascii=False)


SHIELDED_EXIT_HELP = (
    "exit status: 0 done, 1 error, 4 interrupted before the answer came, the outcome"
    f" unknown\n(Ctrl+C waits up to {INTERRUPT_WAIT:g} s for the answer; Ctrl+C again stops"
    " at once)"
)
"""For ``request`` and ``verify``, which Ctrl+C does not cut off (see ``shielded``)."""
_EXIT_HELP = "exit status: 0 done, 1 error"


CLIENTS: dict[str, type[Any]] = {"2.x": Client, "barocert": barocert.Client}
"""Each generation's client class, whose ``variables`` its commands read."""


# A request model's fields as flags ------------------------------------------------

# What a field cannot say of its flag. The flag is --field-name unless _base.RENAMED
# says otherwise; its metavar is its name's last word, unless this says otherwise.
_METAVARS = {"hp": "DIGITS", "num": "NUMBER", "token": "TEXT", "in": "S"}
_DEFAULTS = {"expire_in": DEFAULT_EXPIRES_IN}
"""Defaults the command line gives where the model has none."""
_FROM_ENV = {"call_center_num": CALL_CENTER_VAR}
"""Fields whose flag defaults to an environment variable, one of the two required."""
_BY_HASH = {"token": "--file", "documents": "--document-file"}
"""In a model with ``token_type``: what may be given as files, whose hash is signed."""
_SET_OTHERWISE = ("token_type", "app_to_app")
"""Fields set by other flags: by whether files were given, and ``--app-to-app``."""


@attrs.frozen
class Flag:
    """A field of a request model as a flag, made of the field's name, type, default and
    doc; personal (a :class:`Secret` until the request is built) if its repr masks it."""

    field: str
    metavar: tuple[str, ...]
    """What it takes (``S``; a tuple field's items: ``TITLE TEXT``), for messages."""
    options: dict[str, Any] = attrs.field(repr=False)
    """``add_argument``'s (not shown: a doc's example may be anyone's phone number)."""
    element: type[Any] | None = None
    """A tuple field's item (``SignDocument``): the flag takes its fields, repeated."""
    by_hash: str | None = None
    """The flag giving it as files instead (``--file``): one of the two is required."""

    def add(self, group: argparse._ArgumentGroup, **overrides: Any) -> None:
        """Add the flag (and :attr:`by_hash`) to ``group``, ``overrides`` in its options."""
        group.add_argument(flag_of(self.field), dest=self.field, **{**self.options, **overrides})
        if self.by_hash is not None:  # taken as the flag is, a document's file for its text
            paths = (*self.metavar[:-1], "PATH") if self.element else "PATH"
            help_text = f"instead of {flag_of(self.field)}: a file, whose hash is signed (HASH)"
            files = {**self.options, "type": str, "metavar": paths, "help": help_text}
            group.add_argument(self.by_hash, dest=f"{self.field}_file", **files)

    def value(self, args: argparse.Namespace) -> Any:
        """The field's value, from the flags: revealed here, into the request."""
        given = getattr(args, self.field)
        usage = " ".join((flag_of(self.field), *self.metavar))
        if self.by_hash is not None:
            files = getattr(args, f"{self.field}_file")
            if (given is None) == (files is None):
                instead = " ".join((self.by_hash, *self.metavar[:-1], "PATH"))
                repeated = ", repeated" if self.element else ""
                raise CommandError(f"give {usage} or {instead} (one of the two{repeated})")
            if files is not None and self.element is None:
                given = self.hash(files)
            elif files is not None:
                given = [(*rest, self.hash(last)) for *rest, last in files]
        if self.element is not None and given is not None:
            names = [field.name for field in attrs.fields(self.element)]
            return tuple(
                self.element(**{n: revealed(v) for n, v in zip(names, values, strict=True)})
                for values in given
            )
        if given is None and self.field in _FROM_ENV:
            raise CommandError(f"{usage} is required, or set {_FROM_ENV[self.field]}")
        return revealed(given)

    def hash(self, path: str) -> str:
        try:
            return barocert.hash_file(path)
        except OSError as exc:
            raise CommandError(
                f"{self.by_hash}: cannot read {path} ({exc.strerror or exc})"
            ) from None


def request_flags(model: type[Any]) -> list[Flag]:
    """The flags of ``model``'s fields: the receiver's first, then the model's order."""
    hints = typing.get_type_hints(model)
    fields = [field for field in attrs.fields(model) if field.name not in _SET_OTHERWISE]
    fields.sort(key=lambda field: list(RECEIVER).index(field.name) if field.name in RECEIVER else 9)
    helps = _helps(model, hints)
    return [_flag(field, hints[field.name], helps.get(field.name, ""), hints) for field in fields]


def _flag(field: attrs.Attribute[Any], typed: Any, help_text: str, hints: dict[str, Any]) -> Flag:
    name = field.name
    hint = typed  # X of X | None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
    element = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else None
    items = attrs.fields(element) if element else (field,)
    lasts = [item.name.rsplit("_", 1)[-1] for item in items]  # a name's last word, as a rule
    metavar = tuple(_METAVARS.get(last, last.upper()) for last in lasts)
    options: dict[str, Any] = {"metavar": metavar[0], "type": Secret}  # personal: see revealed()
    if hint is bool:
        options = {"action": argparse.BooleanOptionalAction}
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        options = {"choices": [member.value for member in hint]}
    elif hint is int or field.repr is True:
        options["type"] = hint if hint is int else str
    if element is not None:
        options.update(nargs=len(metavar), action="append", metavar=metavar)
        help_text += f" Repeat {flag_of(name)} for each."
    default = _DEFAULTS.get(name, field.default)
    # Not optional if it has no default, or None only stands for "not given" (token).
    unset = default is attrs.NOTHING or (default is None and hint is typed)
    options["default"] = None if default is attrs.NOTHING else default
    if name in _FROM_ENV:
        options["default"] = os.environ.get(_FROM_ENV[name], "").strip() or None
        help_text += f" (default: ${_FROM_ENV[name]})"
    elif name in _DEFAULTS:
        help_text += " (default: %(default)s)"
    by_hash = _BY_HASH.get(name) if "token_type" in hints else None
    options.update(required=unset and by_hash is None and name not in _FROM_ENV, help=help_text)
    return Flag(name, metavar, options, element, by_hash)


def build_request(args: argparse.Namespace) -> Any:
    """The request model of the flags' kind; raises the SDK's ``ValidationError``. The
    personal values are revealed into the call: no local holds them."""
    model = args.kind.request
    own, flags = attrs.fields_dict(model), request_flags(model)
    derived: dict[str, Any] = {}
    if "token_type" in own:
        hashed = any(getattr(args, flag.field + "_file") for flag in flags if flag.by_hash)
        derived["token_type"] = "HASH" if hashed else "TEXT"
    if "app_to_app" in own:
        derived["app_to_app"] = args.app_to_app
    return model(**{flag.field: flag.value(args) for flag in flags}, **derived)


def _helps(model: type[Any], fields: dict[str, Any]) -> dict[str, str]:
    """Field name -> its help: its text in the ``Attributes:`` section of ``model``'s
    docstring, reST roles and literals as plain text, another field as its flag, and
    nothing of reprs (no flag is printed). ``text=``'s is ``token``'s (the flag's)."""
    _, _, rest = (inspect.getdoc(model) or "").partition("\nAttributes:\n")
    section = re.split(r"^(?=\S)", rest, maxsplit=1, flags=re.M)[0]  # up to an unindented line
    helps: dict[str, str] = {}
    for entry, doc in re.findall(r"^    (\w+)(?: \(.*?\))?: (.*(?:\n {8}.*)*)", section, re.M):
        name = "token" if entry == "text" else entry

        def plain(found: re.Match[str], name: str = name) -> str:
            word = found[1] or found[2] or ""
            return flag_of(word) if word in fields and word != name else word

        text = re.sub(r":\w+:`~?([^`]*)`|``([^`]*)``", plain, " ".join(doc.split()))
        text = " ".join(text.replace("Masked in reprs.", "").split())
        # The first of a field's wins: text= is documented before token=, its other name.
        helps.setdefault(name, text.replace("%", "%%"))
    return helps


# The parsers ------------------------------------------------------------------------


def env_help(variables: Variables) -> str:
    """The ``environment:`` lines of a generation's commands."""
    p, fallback = variables.prefix, variables.fallback
    twin = f"\n      (each unset one is read from its {fallback.prefix} twin)" if fallback else ""
    return (
        f"environment:\n  {p}LINK_ID, {p}SECRET_KEY, {p}CLIENT_CODE   the credentials{twin}\n"
        f"  {p}API_URL, {p}AUTH_URL   other service URLs (a sandbox: the same URL in both)\n"
    )


def add_command(
    commands: Commands, name: str, summary: str, env: str, epilog: str = _EXIT_HELP, **defaults: Any
) -> argparse.ArgumentParser:
    """A service command's parser: its help, the environment it reads, ``--json``, the
    receipt id (but for ``request`` and ``verify-login``), and ``defaults`` (``run``, ...)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=summary[:1].upper() + summary[1:] + ".",
        epilog=f"{env}\n{epilog}",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (snake_case field names)"
    )
    if name not in ("request", "verify-login"):
        parser.add_argument("receipt_id", metavar="ID", help="the receipt id")
    parser.set_defaults(**defaults)
    return parser


def _group(commands: Commands, kind: AnyKind) -> Commands:
    summary = f"to {kind.what}: request, state, wait, verify"
    if kind is ESIGN:
        summary += " (the same as the bare commands)"
    group = commands.add_parser(
        kind.name.split(".")[-1].replace("_", "-"),
        help=summary,
        description=f"Ask a receiver to {kind.what}, and follow the request.",
    )
    return group.add_subparsers(dest="action", metavar="COMMAND", required=True)


def add_kind(commands: Commands, kind: AnyKind) -> None:
    """Add ``request``, ``state ID``, ``wait ID`` and ``verify ID`` of ``kind``."""
    env = env_help(CLIENTS[kind.generation].variables)
    request_call, state_call, verify_call = kind.calls
    flags = request_flags(kind.request)
    fields = attrs.fields_dict(kind.request)
    from_env = [
        f"  {v}   the default of {flag_of(f)}\n" for f, v in _FROM_ENV.items() if f in fields
    ]
    shown = (
        f"App to App: and the {_handle(kind)} on a second line" if kind.app_to_app else "one line"
    )
    parser = add_command(
        commands,
        "request",
        f"ask a receiver to {kind.what} ({request_call})",
        env + "".join(from_env),
        f"prints the receipt id ({shown})\n{SHIELDED_EXIT_HELP}",
        run=run_request,
        kind=kind,
    )
    receiver = parser.add_argument_group("the receiver (never printed)")
    own = parser.add_argument_group("the request")
    for flag in flags:
        flag.add(receiver if flag.field in RECEIVER else own)
    if kind.app_to_app:
        own.add_argument(
            "--app-to-app",
            action="store_true",
            help=f"App to App: no KakaoTalk message; prints the {_handle(kind)} your app uses",
        )

    states = typing.get_type_hints(kind.status)["state"]
    _, done, *ended = (state.name.lower() for state in states)
    ends = " or ".join(filter(None, (", ".join(ended[:-1]), ended[-1])))
    summary = f"read the state of a request ({state_call})"
    add_command(commands, "state", summary, env, run=run_state, kind=kind)

    summary = f"wait until a request is {done} (or {ends}), showing progress"
    epilog = f"exit status: 0 {done}, 2 {ends}, 3 timed out, 1 error"
    add = add_command(commands, "wait", summary, env, epilog, run=run_wait, kind=kind).add_argument
    add_polling(add, 2.0, "seconds between polls (2)")
    add("-q", "--quiet", action="store_true", help="no progress on stderr")

    within = ", within 10 minutes" if kind.generation == "barocert" else ""
    summary = f"verify a {done} request and print its signed data, once{within} ({verify_call})"
    parser = add_command(
        commands, "verify", summary, env, SHIELDED_EXIT_HELP, run=run_verify, kind=kind
    )
    if kind.app_to_app and kind.generation == "2.x":  # Barocert's verify takes none
        parser.add_argument(
            "--signature", metavar="S", help="App to App: the signature your app got from KakaoTalk"
        )


def add_polling(add: Callable[..., Any], interval: float | None, interval_help: str) -> None:
    """``--interval`` (``interval`` by default) and ``--timeout``, with ``add_argument``."""
    add("--interval", type=seconds, default=interval, metavar="S", help=interval_help)
    after = "give up after S seconds (default: a few seconds after the request expires)"
    add("--timeout", type=seconds, metavar="S", help=after)


def _handle(kind: AnyKind) -> str:
    """The field after the id of an App to App kind's receipt (``tx_id``, ``scheme``): what
    the app uses, printed on a second line."""
    return str(attrs.fields(kind.receipt)[1].name)


# The commands -----------------------------------------------------------------------


def _group_words(kind: AnyKind) -> str:
    """The command group, in messages: ``esign``, ``barocert multi-sign``."""
    return kind.name.replace(".", " ").replace("_", "-")


@command
async def run_request(args: argparse.Namespace) -> int:
    kind: AnyKind = args.kind
    request = build_request(args)  # checked before anything else: nothing is sent
    # 2.x asks for App to App in the call, Barocert in the request model.
    in_call = kind.generation == "2.x" and getattr(args, "app_to_app", False)
    options = {"app_to_app": True} if in_call else {}
    async with connected(CLIENTS[kind.generation]) as client:
        receipt = await shielded(
            client.request(request, **options),
            what="the request",
            kept=lambda receipt: (
                f"interrupted, but the request had been sent: its receipt id, {receipt.receipt_id},"
                f" is printed; `{PROG} {_group_words(kind)} wait {receipt.receipt_id}` follows it"
            ),
            unknown=(
                "interrupted before the request's answer came: it may have been sent (a KakaoTalk"
                " message may have gone out), and no receipt id is known"
            ),
        )
    handle = getattr(receipt, _handle(kind)) if kind.app_to_app else None
    print(to_json(receipt) if args.json else "\n".join(filter(None, (receipt.receipt_id, handle))))
    return EXIT_OK


@command
async def run_state(args: argparse.Namespace) -> int:
    async with connected(CLIENTS[args.kind.generation]) as client:
        status = await getattr(client, args.kind.methods[1])(args.receipt_id)
    # Plain: the fields that are set, one ``name  value`` line each.
    fields = {k: v for k, v in _json.unstructure(status).items() if v is not None}
    width = max(map(len, fields))
    plain = "\n".join(f"{name:<{width}}  {value}" for name, value in fields.items())
    print(to_json(status) if args.json else plain)
    return EXIT_OK


@command
async def run_wait(args: argparse.Namespace) -> int:
    kind: AnyKind = args.kind
    progress = progress_for(sys.stderr, quiet=args.quiet, label=f"{args.receipt_id}  ")
    async with connected(CLIENTS[kind.generation]) as client:
        # The generic watch of both generations' watch_state and watch_status.
        states = client._watch(
            kind, client.client_code, args.receipt_id, timeout=args.timeout, interval=args.interval
        )
        try:
            *_, last = await follow(states, progress)
        except SignTimeout as exc:
            # Still pending: with --json, the last state read, for scripts.
            if args.json and exc.last_status is not None:
                print(to_json(exc.last_status))
            raise
    print(to_json(last) if args.json else last.state.name.lower())
    return EXIT_OK if signed(last) else EXIT_EXPIRED


@command
async def run_verify(args: argparse.Namespace) -> int:
    """``verify ID`` of a kind, or (``kind`` None) ``barocert verify-login TXID``."""
    kind: AnyKind | None = args.kind
    given = {"signature": args.signature} if "signature" in args else {}  # 2.x's App to App
    receipt_id = args.receipt_id
    if kind is None:  # a login, which has no state to read
        client_class, method = barocert.Client, "verify_login"
        consumed = f"login tx {receipt_id} may have been consumed"
        check = "a login has no state to read: if it matters, have the user log in again"
    else:
        client_class, method = CLIENTS[kind.generation], kind.methods[2]
        consumed = f"receipt {receipt_id} may have been consumed"
        check = (
            f"`{PROG} {_group_words(kind)} state {receipt_id}` shows verify_dt if it went through"
        )
    async with connected(client_class) as client:
        verified = await shielded(
            getattr(client, method)(receipt_id, **given),
            what="the verify",
            kept=lambda _: (
                "interrupted, but the verify's answer came: its signed data is printed"
                " (keep it: the service answers a verify once)"
            ),
            unknown=(
                f"interrupted before the verify's answer came: {consumed} (the service answers"
                f" a verify once), and the outcome is unknown; {check}"
            ),
        )
    # The signed data, or a multi-sign's, one line per document.
    documents = getattr(verified, "multi_signed_data", None)
    plain = verified.signed_data if documents is None else "\n".join(documents)
    print(to_json(verified) if args.json else plain)
    return EXIT_OK


# Progress while a signature is awaited -----------------------------------------------
# A live line on a terminal (spinner, state, seconds left, ticking between polls) when
# rich is installed (the cli extra), else plain lines: one when the state changes and,
# while pending, every HEARTBEAT seconds.

# A status, below, is either generation's (2.x's ``StatusBase``, Barocert's ``Status``):
# both have ``state`` (an IntEnum), ``is_final``, ``view_dt`` and the expiry's fields.


def signed(status: Any) -> bool:
    """Whether the receiver signed: state 1 in both generations (SIGNED, COMPLETED)."""
    return status.is_final and int(status.state) == 1


HEARTBEAT = 30.0
"""Seconds between plain lines while nothing changes."""


def describe(status: Any, now: float) -> str:
    """One status in words, by its state's name: ``pending, 57 s left``,
    ``pending (opened), 3 s left``, ``signed`` or ``expired`` (Barocert: ``waiting``,
    ``completed``, ``refused``, ...). ``now`` is epoch seconds."""
    name: str = status.state.name.lower()
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
class Progress(contextlib.AbstractContextManager["Progress"]):
    """Shows the states of one receipt as they are read (this one shows nothing:
    ``--quiet``); a context manager (entering it returns it), entered while they are.
    Each line is ``indent`` spaces, ``label``, then the state in words."""

    _out: Any = None
    """Where: a stream (:class:`PlainProgress`) or a rich console (:class:`RichProgress`)."""
    _label: str = attrs.field(default="", kw_only=True)
    _indent: int = attrs.field(default=0, kw_only=True)
    _clock: Callable[[], float] = attrs.field(default=time.time, kw_only=True)
    _last: Any = attrs.field(default=None, init=False)

    def __exit__(self, *exc_info: object) -> None:
        pass

    def update(self, status: Any) -> None:
        self._last = status

    def _line(self, status: Any, now: float, mark: str = "") -> str:
        return f"{' ' * self._indent}{mark}{self._label}{describe(status, now)}"


@attrs.define
class PlainProgress(Progress):
    """One line per change of state (or opening), and a heartbeat line while pending."""

    _heartbeat: float = attrs.field(default=HEARTBEAT, kw_only=True)
    _shown: tuple[object, float] = attrs.field(default=(None, 0.0), init=False)
    """What the last line showed (the state, and whether opened), and when."""

    def update(self, status: Any) -> None:
        now = self._clock()
        key = (status.state, status.view_dt is not None)
        if key == self._shown[0] and now - self._shown[1] < self._heartbeat:
            return
        self._shown = key, now
        print(self._line(status, now), file=self._out, flush=True)


# The last line a rich display leaves: still pending (None), signed, or ended unsigned.
_MARKS = {None: ("… ", "yellow"), True: ("✔ ", "bold green"), False: ("✘ ", "bold red")}


@attrs.define
class RichProgress(Progress):
    """A spinner with the state and the seconds left, redrawn several times a second
    (the rich console's status); on exit it leaves one line, indented: the last state read."""

    _live: Status = attrs.field(init=False)
    """The console's status, made and started on entering."""

    def __rich__(self) -> Text:
        from rich.text import Text

        last = self._last
        words = "reading the state" if last is None else describe(last, self._clock())
        return Text(self._label + words)

    def __enter__(self) -> RichProgress:
        # The spinner's text is this object, rendered anew each frame: the seconds tick.
        self._live = self._out.status(self, spinner_style="cyan", refresh_per_second=8)
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._live.stop()
        if (last := self._last) is not None:
            mark, style = _MARKS[signed(last) if last.is_final else None]
            line = self._line(last, self._clock(), mark)
            self._out.print(line, style=style, highlight=False, markup=False)


def console(stream: IO[str]) -> Console | None:
    """A rich console on ``stream`` if it is a terminal and rich (the ``cli`` extra) is
    installed: lines styled, and progress live."""
    if stream.isatty():
        with contextlib.suppress(ImportError):
            from rich.console import Console

            return Console(file=stream)
    return None


async def follow(states: AsyncGenerator[Any, None], progress: Progress) -> list[Any]:
    """Show each state of ``states`` (a client's ``watch_state``) on ``progress``, and
    return them, in order: the last is final (``watch_state`` yields one, or raises)."""
    seen = []
    with progress:
        async with contextlib.aclosing(states):
            async for status in states:
                progress.update(status)
                seen.append(status)
    return seen


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


# The demo: request, await and verify one signature, showing each step ----------------
# On the in-process sandbox by default (it signs --sign-after seconds after the request;
# no network, no credentials); with --live, on the real service, with the credentials
# from the environment and the receiver from the flags.

SANDBOX_INTERVAL = 0.5
LIVE_INTERVAL = 2.0
DEMO_TITLE = "kakaocert-async 데모"
DEMO_TOKEN = "kakaocert-async demo: 이 문장에 전자서명합니다."  # noqa: S105 -- the text signed
# The manual's example receiver (the sandbox sends no message to anyone), as flags give it.
SANDBOX_REQUEST = {
    "receiver_name": Secret("홍길동"),
    "receiver_hp": Secret("01012341234"),
    "receiver_birthday": Secret("19900108"),
    "call_center_num": "1600-0000",
}


def add_demo(commands: Commands) -> None:
    """Add the ``demo`` subcommand to ``commands``: its own flags, and those of ``request``
    (none required: the sandbox has a receiver, and the demo a text to sign)."""
    parser = commands.add_parser(
        "demo",
        help="request, await and verify one signature, step by step (sandbox or --live)",
        description=(
            "Request a signature, wait for it with progress, verify it and print the signed\n"
            "data: on an in-process sandbox (no network, no credentials), or with --live on\n"
            "the real service."
        ),
        epilog=(
            f"{env_help(Client.variables)}  (read with --live, which needs --name, --phone,"
            f" --birthday and\n  --call-center or ${CALL_CENTER_VAR})\n\n"
            "exit status: 0 signed and verified, 2 expired, 3 timed out, 1 error"
        ),
    )
    add = parser.add_argument
    add(
        "--live",
        action="store_true",
        help="use the real service instead of the sandbox: a KakaoTalk message is sent",
    )
    sandbox_cli.add_sign_after(parser, "sandbox: seconds until the receiver signs")
    live = f"{SANDBOX_INTERVAL:g} on the sandbox, {LIVE_INTERVAL:g} live"
    add_polling(add, None, f"seconds between polls ({live})")
    receiver = parser.add_argument_group("the receiver (--live; never printed)")
    own = parser.add_argument_group("the request")
    for flag in request_flags(ESignRequest):
        flag.add(receiver if flag.field in RECEIVER else own, required=False)
    parser.set_defaults(run=run_demo, kind=ESIGN, tms_title=DEMO_TITLE, token=DEMO_TOKEN)


@command
async def run_demo(args: argparse.Namespace) -> int:
    """The demo itself, on stdout; its exit status."""
    started = time.monotonic()
    rich = console(sys.stdout)
    arrow = " → " if rich is not None else " -> "

    def line(text: str, style: str | None = None) -> None:
        if rich is None:
            print(text, flush=True)
        else:
            rich.print(text, style=style, markup=False, highlight=False, soft_wrap=True)

    # The request, checked first (nothing is sent if it is wrong): the sandbox's receiver
    # and call center where none is given, but for --live, which needs them.
    missing = [flag_of(field) for field in RECEIVER if not revealed(getattr(args, field))]
    if args.live and missing:
        raise CommandError(
            f"demo --live needs the receiver's --name, --phone and --birthday"
            f" (missing: {', '.join(missing)})"
        )
    if not args.live:
        for field, value in SANDBOX_REQUEST.items():
            setattr(args, field, getattr(args, field) or value)
    request = build_request(args)
    async with contextlib.AsyncExitStack() as stack:
        client: BoundClient
        if args.live:
            client = await stack.enter_async_context(connected(Client))
            where = f"the service at {client._base_url} (client code {client.client_code})"
        else:
            from kakaocert_async.sandbox._sandbox import Sandbox, SandboxUnavailable

            sandbox = await stack.enter_async_context(Sandbox(sign_after=args.sign_after))
            try:  # the sandbox's server side, in-process: the sandbox extra
                client = sandbox.client().for_client()  # closed with the sandbox
            except SandboxUnavailable as exc:
                raise CommandError(f"{exc} (or run the demo --live)") from None
            signs = (
                "never signs by itself"
                if args.sign_after is None
                else f"the receiver signs {args.sign_after:g} s after the request"
            )
            where = f"the in-process sandbox ({signs})"
        line(f"KakaoCert demo on {where}", style="bold")
        interval = args.interval or (LIVE_INTERVAL if args.live else SANDBOX_INTERVAL)

        receipt = await client.request_esign(request)
        line(f"1. request_esign {arrow}receipt_id {receipt.receipt_id}", style="cyan")

        line(f"2. await_signed   polling every {interval:g} s", style="cyan")
        states = client.watch_esign_state(
            receipt.receipt_id, interval=interval, timeout=args.timeout
        )
        seen = await follow(states, progress_for(sys.stdout, indent=3))
        # Pending, then signed or expired: each state once.
        line("   states seen: " + arrow.join(dict.fromkeys(s.state.name.lower() for s in seen)))
        if seen[-1].state is SignState.EXPIRED:
            line("The request expired before it was signed.", style="bold red")
            return EXIT_EXPIRED

        signed_data = (await client.verify_esign(receipt.receipt_id)).signed_data
        line(
            f"3. verify_esign  {arrow}signed_data ({len(signed_data)} characters):",
            style="cyan",
        )
        line(signed_data)
    line(f"Signed and verified in {time.monotonic() - started:.1f} s.", style="bold green")
    return EXIT_OK


# The parser of every command, and the program -------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description=(
            "KakaoCert e-signatures, identity verification and CMS withdrawal consents from"
            " the command line, Barocert's too (kakaocert-async barocert), and a local sandbox."
        ),
        epilog=(
            "exit status: 0 done (wait, demo: signed), 2 expired, 3 timed out, 1 error,\n"
            "130 interrupted, 4 interrupted during a verify or request whose answer did not"
            " come.\n"
            "Credentials come from KAKAOCERT_LINK_ID, KAKAOCERT_SECRET_KEY and"
            " KAKAOCERT_CLIENT_CODE\n(barocert: BAROCERT_*, falling back to those);"
            " see COMMAND --help, and docs/cli.md."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = cast(
        Commands, parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    )
    # The bare commands (e-sign's), a group of the four per 2.x kind, and the barocert
    # group, one per Barocert kind and verify-login.
    add_kind(commands, ESIGN)
    for kind in _kinds.KINDS:
        add_kind(_group(commands, kind), kind)
    env = env_help(barocert.Client.variables)
    names = [kind.name.split(".")[1].replace("_", "-") for kind in barocert_kinds.KINDS]
    summary = "Barocert, Linkhub's current Kakao certificate API"
    group = commands.add_parser(
        "barocert",
        help=summary,
        description=f"{summary}: {', '.join(names[:-1])} and {names[-1]} (request, state, wait,"
        " verify each), and verify-login.",
        epilog=env,
    )
    kinds = group.add_subparsers(dest="barocert_kind", metavar="COMMAND", required=True)
    for kind in barocert_kinds.KINDS:
        add_kind(_group(kinds, kind), kind)
    login = add_command(
        kinds,
        "verify-login",
        "verify a KakaoTalk login and print its signed data, once, within 10 minutes (verifyLogin)",
        env,
        SHIELDED_EXIT_HELP,
        run=run_verify,
        kind=None,
    )
    login.add_argument("receipt_id", metavar="TXID", help="the transaction id your app received")
    add_demo(commands)
    sandbox_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status.

    Bad arguments print one line and raise ``SystemExit(1)``, as ``--help`` and
    ``--version`` raise ``SystemExit(0)``.
    """
    args = build_parser().parse_args(argv)
    return cast(int, args.run(args))
