"""The README's Python snippets run as written, each against a sandbox.

Every ```python block of the README is run here (the Barocert one in
``tests/barocert/test_docs.py``): a new snippet must be added to :data:`RUNNERS`,
or :func:`test_every_snippet_is_run` fails.
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
README = ROOT / "README.md"


def readme_blocks() -> list[tuple[str, str]]:
    """``(section heading, code)`` of every ```python block, in order."""
    blocks = []
    section = ""
    for part in re.split(r"^(#{2,3} .+)$", README.read_text("utf-8"), flags=re.MULTILINE):
        if part.startswith("#"):
            section = part
            continue
        blocks += [(section, code) for code in re.findall(r"```python\n(.*?)```", part, re.S)]
    return blocks


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
    ("## Use it", 0): use_it,
    ("## Use it", 1): without_keys,
    ("## API", 0): identity_check,
    ("## Barocert", 0): None,  # tests/barocert/test_docs.py
    ("## Many processes", 0): None,  # tests/fleet/test_readme.py (needs Redis)
    ("## Many processes", 1): None,
    ("## The sandbox", 0): the_sandbox,
    ("## Testing your code", 0): the_test,
}


def snippets() -> list[tuple[str, int, str]]:
    counts: dict[str, int] = {}
    found = []
    for section, code in readme_blocks():
        top = section if section.startswith("## ") else _parent(section)
        index = counts.get(top, 0)
        counts[top] = index + 1
        found.append((top, index, code))
    return found


def _parent(section: str) -> str:
    """The ``##`` section a ``###`` heading is in."""
    text = README.read_text("utf-8")
    before = text[: text.index(section)]
    return re.findall(r"^## .+$", before, flags=re.MULTILINE)[-1]


def test_every_snippet_is_run() -> None:
    assert {(top, index) for top, index, _ in snippets()} == set(RUNNERS)


RUN = [snippet for snippet in snippets() if RUNNERS.get(snippet[:2]) is not None]


@pytest.mark.parametrize(
    ("section", "index", "code"),
    RUN,
    ids=[getattr(RUNNERS[snippet[:2]], "__name__", "") for snippet in RUN],
)
def test_the_snippet_runs_as_written(
    section: str,
    index: int,
    code: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    runner = RUNNERS[(section, index)]
    assert runner is not None
    runner(code, monkeypatch, capsys)
