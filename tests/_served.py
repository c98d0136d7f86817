"""Support for the CLI and example tests: a sandbox on a loopback port, its environment,
the examples as modules, and the signed data a sandbox gives for a receipt."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType, SimpleNamespace

from kakaocert_async.sandbox import Sandbox
from kakaocert_async.sandbox._receipts import signed_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CALL_CENTER = "1600-0000"
RECEIVER = {"name": "홍길동", "phone": "01012341234", "birthday": "19900108"}
RECEIVER_FLAGS = [
    "--name",
    RECEIVER["name"],
    "--phone",
    RECEIVER["phone"],
    "--birthday",
    RECEIVER["birthday"],
]
SERVICE_VARS = (
    "KAKAOCERT_LINK_ID",
    "KAKAOCERT_SECRET_KEY",
    "KAKAOCERT_CLIENT_CODE",
    "KAKAOCERT_API_URL",
    "KAKAOCERT_AUTH_URL",
    "KAKAOCERT_CALL_CENTER",
    "KAKAOCERT_DEBUG",
    "BAROCERT_LINK_ID",
    "BAROCERT_SECRET_KEY",
    "BAROCERT_CLIENT_CODE",
    "BAROCERT_API_URL",
    "BAROCERT_AUTH_URL",
)


@contextlib.contextmanager
def served_sandbox(**settings: object) -> Iterator[tuple[Sandbox, str]]:
    """A sandbox served from a thread on a free loopback port, and its URL."""
    sandbox = Sandbox(**settings)  # type: ignore[arg-type]
    with sandbox.serve_in_thread() as url:
        yield sandbox, url


def service_env(sandbox: Sandbox, url: str) -> dict[str, str]:
    """The ``KAKAOCERT_*`` variables that point the CLI and the examples at ``url``."""
    return {
        "KAKAOCERT_LINK_ID": sandbox.link_id,
        "KAKAOCERT_SECRET_KEY": sandbox.secret_key,
        "KAKAOCERT_CLIENT_CODE": sandbox.client_code,
        "KAKAOCERT_API_URL": url,
        "KAKAOCERT_AUTH_URL": url,
        "KAKAOCERT_CALL_CENTER": CALL_CENTER,
    }


def barocert_env(sandbox: Sandbox, url: str) -> dict[str, str]:
    """The ``BAROCERT_*`` variables that point ``kakaocert-async barocert`` at ``url``."""
    return {
        "BAROCERT_LINK_ID": sandbox.link_id,
        "BAROCERT_SECRET_KEY": sandbox.secret_key,
        "BAROCERT_CLIENT_CODE": sandbox.client_code,
        "BAROCERT_API_URL": url,
        "BAROCERT_AUTH_URL": url,
    }


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without ``KAKAOCERT_*`` (nor ``BAROCERT_*``), plus
    ``extra``; the checkout first on the path (for a bare checkout)."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def expected_signed_data(sandbox: Sandbox, receipt_id: str, token: str) -> str:
    """The signed data the sandbox gives for a receipt of ``token`` (derived, not stored)."""
    receipt = SimpleNamespace(receipt_id=receipt_id, request=SimpleNamespace(token=token))
    return signed_data(sandbox.settings.key, receipt)  # type: ignore[arg-type]


def console_script() -> list[str]:
    """The installed ``kakaocert-async`` script (``python -m kakaocert_async`` if it is not)."""
    scripts = Path(sysconfig.get_path("scripts"))
    for candidate in (scripts / "kakaocert-async", scripts / "kakaocert-async.exe"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("kakaocert-async")
    return [found] if found else [sys.executable, "-m", "kakaocert_async"]


def run(
    command: Sequence[str], env: Mapping[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 -- fixed programs, arguments from the tests
        list(command),
        env=dict(env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (the examples are scripts, not a package)."""
    module_name = f"kakaocert_examples_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    if str(EXAMPLES) not in sys.path:
        sys.path.append(str(EXAMPLES))  # as when run as a script: fleet.py imports fastapi_app
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
