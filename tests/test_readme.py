"""The README's Python snippets, and those of the guides its sections point to, run as
written, each against a sandbox.

Every ```python block of :data:`DOCUMENTS` is run here (the Barocert one in
``tests/barocert/test_docs.py``, the fleet's in ``tests/fleet/test_readme.py``): a new
snippet must be added to :data:`RUNNERS`, or :func:`test_every_snippet_is_run` fails.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kakaocert_async.sandbox import Sandbox
from tests._served import SERVICE_VARS, expected_signed_data, served_sandbox

ROOT = Path(__file__).resolve().parents[1]


DOCUMENTS = (
    "README.md",
    "docs/client.md",
    "docs/overview/barocert.md",
    "docs/overview/sandbox.md",
    "docs/quickstart.md",
)
"""The README and the guides that took its long sections."""


def python_blocks(document: str) -> list[str]:
    """The ```python blocks of ``document`` (a path from the repository's root), in order."""
    return re.findall(r"```python\n(.*?)```", (ROOT / document).read_text("utf-8"), re.S)


def run(code: str, name: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": f"readme:{name}"}
    exec(compile(code, f"README.md ({name})", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture(autouse=True)
def _no_service_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)


def use_it(code: str, monkeypatch: Any, capsys: Any) -> None:
    """The quickstart program, with the variables ``kakaocert-async sandbox`` prints,
    against a sandbox served as that command serves it (its defaults)."""
    with served_sandbox() as (sandbox, url):
        for name, value in sandbox.environment(url).items():
            monkeypatch.setenv(name, value)
        run(code, "use it")
    (receipt_id,) = sandbox.service._receipts
    assert sandbox.stats["verify"] == 1
    signed = expected_signed_data(sandbox, receipt_id, "본인은 위 계약 내용에 동의합니다.")
    assert capsys.readouterr().out == signed + "\n"


def without_keys(code: str, monkeypatch: Any, capsys: Any) -> None:
    run(code, "use it, without keys")
    assert capsys.readouterr().out == "SIGNED\n"


def identity_check(code: str, monkeypatch: Any, capsys: Any) -> None:
    check_identity = run(code, "identity")["check_identity"]

    async def main() -> str | None:
        async with Sandbox(sign_after=0) as sandbox, sandbox.client() as client:
            result: str | None = await check_identity(client.for_client(sandbox.client_code))
            return result

    assert asyncio.run(main())


def the_sandbox(code: str, monkeypatch: Any, capsys: Any) -> None:
    run(code, "the sandbox")
    assert capsys.readouterr().out == "SIGNED True\n1 1\n"


def the_test(code: str, monkeypatch: Any, capsys: Any) -> None:
    test = run(code, "testing")["test_contract_signing"]
    sandbox = Sandbox()  # what the fixture gives: the defaults
    asyncio.run(test(sandbox))
    assert sandbox.stats["verify"] == 1


Runner = Callable[[str, Any, Any], None]
RUNNERS: dict[tuple[str, int], Runner | None] = {
    ("README.md", 0): use_it,
    ("README.md", 1): without_keys,
    ("README.md", 2): the_test,
    ("docs/client.md", 0): identity_check,
    ("docs/overview/barocert.md", 0): None,  # tests/barocert/test_docs.py
    ("docs/overview/sandbox.md", 0): the_sandbox,
    ("docs/quickstart.md", 0): None,  # tests/fleet/test_readme.py (needs Redis)
    ("docs/quickstart.md", 1): None,
}


def snippets() -> list[tuple[str, int, str]]:
    """``(document, index in it, code)`` of every snippet of :data:`DOCUMENTS`."""
    return [
        (document, index, code)
        for document in DOCUMENTS
        for index, code in enumerate(python_blocks(document))
    ]


def test_every_snippet_is_run() -> None:
    assert {(document, index) for document, index, _ in snippets()} == set(RUNNERS)


RUN = [snippet for snippet in snippets() if RUNNERS.get(snippet[:2]) is not None]


@pytest.mark.parametrize(
    ("document", "index", "code"),
    RUN,
    ids=[getattr(RUNNERS[snippet[:2]], "__name__", "") for snippet in RUN],
)
def test_the_snippet_runs_as_written(
    document: str,
    index: int,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runner = RUNNERS[(document, index)]
    assert runner is not None
    runner(code, monkeypatch, capsys)
