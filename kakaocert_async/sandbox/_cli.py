"""The ``sandbox`` command: run the sandbox on a port, printing its URL and credentials."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys

from kakaocert_async._arguments import any_seconds, seconds, sign_after
from kakaocert_async._errors import ValidationError

from ._faults import Action, Fault, FaultSpecError
from ._sandbox import Sandbox, SandboxUnavailable, require_extra
from ._settings import (
    DEFAULT_CLIENT_CODE,
    DEFAULT_LINK_ID,
    DEFAULT_SECRET_KEY,
    DEFAULT_SIGN_AFTER,
    DEFAULT_TOKEN_TTL,
)

DEFAULT_PORT = 8100
_SETTINGS = ("link_id", "secret_key", "client_code", "sign_after", "token_ttl", "clock_offset")
"""The options that are :class:`Settings` fields by the same name."""

_FAULT_HELP = """\
fault SPEC is ACTION[:key=value,...]; ACTION is delay, error or drop; keys:
  endpoint=NAME   time, token, request, status, verify (e-sign), identity.request,
                  identity.status, identity.verify, cms.request, cms.status or
                  cms.verify (repeat, or join with +); Barocert: barocert.token,
                  barocert.sign.status, ... (docs/sandbox.md)
  every=N         strike on every N-th matching call
  times=N         strike N times, then stop
  window=A-B      strike only from A to B seconds after start
  seconds=S       delay: seconds to wait (delay:S for short)
  status=CODE     error: the HTTP status (503)
  body=KIND       error: html, empty or json (html)
  retry_after=S   error: send Retry-After
  processed=BOOL  error/drop: run the call first (drop: true, error: false)
examples:
  --fault error:endpoint=status,every=3 --fault drop:endpoint=verify,times=1
  --fault error:window=10-20,body=empty --latency 0.2
"""


def _fault(text: str) -> Fault:
    try:
        return Fault.parse(text)
    except FaultSpecError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None


def add_sign_after(parser: argparse.ArgumentParser, until: str) -> None:
    """Add ``--sign-after S`` (or ``never``) to ``parser``: the ``sandbox`` command's and the
    demo's; ``until`` begins its help (``seconds until a request is signed``)."""
    parser.add_argument(
        "--sign-after",
        type=sign_after,
        default=DEFAULT_SIGN_AFTER,
        metavar="S",
        help=f"{until}, or 'never' ({DEFAULT_SIGN_AFTER:g})",
    )


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sandbox`` subcommand to ``commands`` (its epilog laid out as written, as
    every parser of the command line's ``Parser`` class is)."""
    parser = commands.add_parser(
        "sandbox",
        help="run a local KakaoCert sandbox (auth and API on one origin)",
        description="Run a local KakaoCert that speaks the real protocol, for development.",
        epilog=_FAULT_HELP,
    )
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    add("--port", type=int, default=DEFAULT_PORT, help=f"port; 0 picks a free one ({DEFAULT_PORT})")
    add("--link-id", default=DEFAULT_LINK_ID, help=f"LinkID to accept ({DEFAULT_LINK_ID})")
    add("--secret-key", default=DEFAULT_SECRET_KEY, help="SecretKey to accept (base64)")
    add("--client-code", default=DEFAULT_CLIENT_CODE, help="default client code to print")
    add_sign_after(parser, "seconds until a request is signed")
    add("--token-ttl", type=seconds, default=DEFAULT_TOKEN_TTL, metavar="S", help="token life")
    add("--clock-offset", type=any_seconds, default=0.0, metavar="S", help="shift the clock by S")
    add("--latency", type=seconds, default=0.0, metavar="S", help="delay every answer by S")
    add(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME[:PORT]",
        help="another name the phone and control routes answer to (a container's, a proxy's)",
    )
    add("--fault", type=_fault, action="append", default=[], metavar="SPEC", help="see below")
    add(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (info; debug also logs each request)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 1 on bad settings, a missing extra or a busy port."""
    faults: list[Fault] = list(args.fault)
    if args.latency:
        faults.insert(0, Fault(action=Action.DELAY, seconds=args.latency))
    try:
        settings = {name: getattr(args, name) for name in _SETTINGS}
        sandbox = Sandbox(**settings, allowed_hosts=args.allow_host, faults=faults)
        require_extra()
        from ._server import run_forever

        with contextlib.suppress(KeyboardInterrupt):
            run_forever(
                sandbox.app,
                host=args.host,
                port=args.port,
                log_level=args.log_level,
                on_started=lambda url: print(banner(sandbox, url), flush=True),
            )
    except (ValidationError, SandboxUnavailable) as exc:
        error = str(exc)
    except OSError as exc:  # binding the port: nothing before it does I/O
        error = f"cannot listen on {args.host}:{args.port}: {exc}"
    else:
        return 0
    print(f"kakaocert-async sandbox: {error}", file=sys.stderr)
    return 1


def banner(sandbox: Sandbox, url: str) -> str:
    """What the command prints once listening."""
    from ._server import describe  # needs uvicorn, which serving needs anyway

    settings = sandbox.settings
    never = "never (sign with the control API)"
    sign_after = never if settings.sign_after is None else f"{settings.sign_after:g} s"
    lines = [
        f"KakaoCert sandbox on {url}  (auth and API: use it as both base_url and auth_url)",
        f"  link_id      {settings.link_id}",
        f"  secret_key   {settings.secret_key}",
        f"  client_code  {settings.client_code}  (any 12-digit code is accepted)",
        f"  sign_after   {sign_after}",
        f"  token_ttl    {settings.token_ttl:g} s",
        f"  server       {describe()}",
    ]
    if settings.allowed_hosts:
        lines.append(f"  allow_host   {', '.join(settings.allowed_hosts)}")
    if settings.clock_offset:
        lines.append(f"  clock        {settings.clock_offset:+g} s off this machine's")
    lines += [f"  fault        {fault['spec']}" for fault in sandbox.faults.listing()]
    lines += [
        f"  phone        {url}/  (the receiver, in your browser: read, sign or let expire)",
        f"  control      {url}/_sandbox/stats, {url}/_sandbox/receipts/<id>/sign, ...",
        "",
        "Paste into a shell to point kakaocert-async, Client.from_env() and",
        "barocert.Client.from_env() at it:",
        *export_lines(sandbox, url),
        "",
        f"  Client({settings.link_id!r}, {settings.secret_key!r},",
        f"         base_url={url!r}, auth_url={url!r})",
        "Press Ctrl+C to stop.",
    ]
    return "\n".join(lines)


def export_lines(sandbox: Sandbox, url: str) -> list[str]:
    """``export KAKAOCERT_...=...`` and ``export BAROCERT_...=...`` lines (POSIX shells):
    :meth:`Sandbox.environment`, to paste."""
    variables = sandbox.environment(url)
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]
