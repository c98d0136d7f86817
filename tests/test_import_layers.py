"""The layering is checked (``lint-imports``, by pyproject.toml's contracts), and no import
goes round in a circle, type-only imports included."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _cycles() -> list[list[str]]:
    """The package's import cycles: every group of modules (package ``__init__``\\ s
    included) that import one another, directly or not (Tarjan's algorithm)."""
    graph = grimp.build_graph("kakaocert_async", exclude_type_checking_imports=False)
    imports = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in imports[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1 or module in imports[module]:
                found.append(sorted(group))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_in_a_circle() -> None:
    # lint-imports' acyclic contract compares siblings; this also sees a module that
    # imports its own package's __init__, which imports it.
    assert _cycles() == []


def _lint_imports(tmp_path: Path, breakage: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on a copy of the package, with ``breakage`` (a line added to the
    end of each module named)."""
    shutil.copytree(ROOT / "kakaocert_async", tmp_path / "kakaocert_async")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for module, line in breakage.items():
        with (tmp_path / "kakaocert_async" / module).open("a", encoding="utf-8") as source:
            source.write(f"\n{line}\n")
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_are_kept(tmp_path: Path) -> None:
    run = _lint_imports(tmp_path, {})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("breakage", "broken"),
    [
        # The floor reading the service's error bodies again.
        (
            {"_http.py": "from . import _wire"},
            "kakaocert_async._http is not allowed to import kakaocert_async._wire",
        ),
        # The core importing a tool.
        (
            {"_client.py": "from . import sandbox"},
            "kakaocert_async._client is not allowed to import kakaocert_async.sandbox",
        ),
        # KakaoCert 2.x's client importing Barocert's.
        (
            {"_connection.py": "from . import barocert"},
            "kakaocert_async._connection is not allowed to import kakaocert_async.barocert",
        ),
        # A type-only import counts.
        (
            {
                "_errors.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from ._models import Status as _S"
            },
            "kakaocert_async._errors is not allowed to import kakaocert_async._models",
        ),
        # The job reaching back to its queue.
        (
            {"arq/_job.py": "from . import _queue"},
            "kakaocert_async.arq._job is not allowed to import kakaocert_async.arq._queue",
        ),
        # Two of the sandbox's modules importing each other.
        (
            {
                "sandbox/_phone.py": "from . import _guard",
                "sandbox/_guard.py": "from . import _phone",
            },
            "No cycles are allowed in kakaocert_async.sandbox",
        ),
    ],
)
def test_a_broken_layer_or_a_cycle_fails_lint_imports(
    tmp_path: Path, breakage: dict[str, str], broken: str
) -> None:
    run = _lint_imports(tmp_path, breakage)
    assert run.returncode != 0
    assert broken in " ".join(run.stdout.split()), run.stdout + run.stderr
