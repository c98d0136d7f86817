"""What every command shares: the parser, exit codes, errors, the environment and JSON."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from typing import IO, NoReturn, TypeAlias, TypeVar

import attrs
import cattrs

from kakaocert_async._client import Client
from kakaocert_async._connection import ClientBase
from kakaocert_async._env import Environment, Variables
from kakaocert_async._errors import (
    CLIENT_ERROR_CODE,
    APIError,
    KakaocertError,
    MalformedResponse,
    RequestNotSent,
    SignTimeout,
    TransportError,
    ValidationError,
    VerifyOutcomeUnknown,
)
from kakaocert_async._models import SignState
from kakaocert_async.barocert import State

PROG = "kakaocert-async"

EXIT_OK = 0
"""Done (for ``wait`` and ``demo``: signed)."""
EXIT_ERROR = 1
"""Any error, bad arguments included."""
EXIT_EXPIRED = 2
"""The request expired before it was signed."""
EXIT_TIMEOUT = 3
"""``--timeout`` passed (or the receipt outlived its expiry) while still pending."""
EXIT_INTERRUPTED = 130
"""Ctrl+C."""

CALL_CENTER_VAR = "KAKAOCERT_CALL_CENTER"
DEBUG_VAR = "KAKAOCERT_DEBUG"

C = TypeVar("C", bound=ClientBase)


KAKAOCERT = Client.variables
"""KakaoCert 2.x's variables (``KAKAOCERT_LINK_ID`` ... ``KAKAOCERT_AUTH_URL``)."""

# The flag (or argument) behind each field a ValidationError may name.
FLAGS = {
    "receiver_name": "--name",
    "receiver_hp": "--phone",
    "receiver_birthday": "--birthday",
    "tms_title": "--title",
    "token": "--token",
    "expires_in": "--expires-in",
    "tms_message": "--message",
    "payload": "--payload",
    "call_center_num": "--call-center",
    "sub_client_id": "--sub-client-id",
    "call_center_name": "--call-center-name",
    "bank_account_name": "--bank-account-name",
    "bank_account_num": "--bank-account-num",
    "bank_code": "--bank-code",
    "client_user_id": "--client-user-id",
    "receipt_id": "ID",
    "signature": "--signature",
    "interval": "--interval",
    "timeout": "--timeout",
    # Barocert's (kakaocert-async barocert ...)
    "req_title": "--title",
    "sign_title": "--sign-title",
    "expire_in": "--expire-in",
    "extra_message": "--message",
    "return_url": "--return-url",
    "documents": "--document",
    "request_corp": "--request-corp",
    "bank_name": "--bank-name",
    "bank_account_birthday": "--bank-account-birthday",
    "bank_service_type": "--bank-service-type",
    "tx_id": "TXID",
}


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr and exit 1.

    (argparse's own status, 2, means "expired" here.) Subparsers inherit the class.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers()`` returns: each command adds its parser to it."""


class CommandError(Exception):
    """A failure the command explains in one line; ``status`` is the exit code."""

    def __init__(self, message: str, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


def describe_error(exc: BaseException) -> str:
    """The one-line message for an error: what kind, and the SDK's own words."""
    if isinstance(exc, ValidationError):
        flag = FLAGS.get(exc.field)
        return exc.message + (f" ({flag})" if flag else "")
    if isinstance(exc, KakaocertError):
        if isinstance(exc, APIError):
            kind = "service error"
        elif isinstance(exc, VerifyOutcomeUnknown):
            kind = "verify outcome unknown"
        elif isinstance(exc, RequestNotSent):
            kind = "cannot connect"
        elif isinstance(exc, MalformedResponse):
            kind = "unreadable answer"
        elif isinstance(exc, TransportError):
            kind = "connection failed"
        elif isinstance(exc, SignTimeout):
            kind = "timed out"
        else:
            kind = "error"
        detail = exc.message if exc.code == CLIENT_ERROR_CODE else str(exc)
        return f"{kind}: {detail}"
    if isinstance(exc, CommandError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def report(message: str, *, stream: IO[str] | None = None) -> None:
    """Write ``kakaocert-async: MESSAGE`` as one line to stderr."""
    print(f"{PROG}: {one_line(message)}", file=stream or sys.stderr, flush=True)


def run(command: Callable[[], Awaitable[int]]) -> int:
    """Run an async command; map every failure to its exit code and a one-line message."""
    try:
        return asyncio.run(_awaited(command))
    except KeyboardInterrupt:
        report("interrupted")
        return EXIT_INTERRUPTED
    except CommandError as exc:
        report(exc.message)
        return exc.status
    except SignTimeout as exc:
        report(describe_error(exc))
        return EXIT_TIMEOUT
    except KakaocertError as exc:
        report(describe_error(exc))
        return EXIT_ERROR
    except Exception as exc:
        if os.environ.get(DEBUG_VAR):
            raise
        report(f"unexpected {describe_error(exc)} (set {DEBUG_VAR}=1 to see the traceback)")
        return EXIT_ERROR


async def _awaited(command: Callable[[], Awaitable[int]]) -> int:
    return await command()


# The service, from the environment ----------------------------------------------


@attrs.frozen(kw_only=True)
class Service:
    """Where and as whom to call: the ``KAKAOCERT_*`` environment variables (or another
    generation's :class:`Variables`), the client code included (every command needs one)."""

    environment: Environment
    client_code: str

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, variables: Variables = KAKAOCERT
    ) -> Service:
        """Read the credentials and URLs, as ``Client.from_env()`` does; a
        :class:`ValidationError` names what is missing, and suggests the sandbox."""
        environment = Environment.from_env(environ, variables=variables)
        assert environment.client_code is not None  # required above
        return cls(environment=environment, client_code=environment.client_code)

    @property
    def api_url(self) -> str:
        return self.environment.api_url

    @property
    def auth_url(self) -> str:
        return self.environment.auth_url

    def client(self, factory: Callable[..., C] = Client) -> C:  # type: ignore[assignment]
        """A client of this service (a 2.x :class:`Client` unless ``factory`` is another
        client class); close it. A value it refuses is named by its variable."""
        return self.environment.client(factory)


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
