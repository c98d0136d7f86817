"""The Barocert guide's quickstart and the docs page's model snippet run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(path: Path, section: str) -> list[str]:
    """The ```python blocks of the ``section`` heading's part of ``path``."""
    text = path.read_text("utf-8")
    start = text.index(f"\n{section}\n")
    level = section.split(" ", 1)[0]
    end = text.find(f"\n{level} ", start + len(section) + 2)
    part = text[start : end if end != -1 else len(text)]
    return re.findall(r"```python\n(.*?)```", part, flags=re.DOTALL)


def test_the_guide_quickstart_runs_against_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    guide = (ROOT / "docs" / "overview" / "barocert.md").read_text("utf-8")
    (quickstart,) = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    exec(compile(quickstart, "docs/overview/barocert.md", "exec"), {"__name__": "readme"})  # noqa: S102
    out = capsys.readouterr().out
    assert re.fullmatch(r"signed: \d+ characters of signed data\n", out), out


def test_the_docs_model_snippet_runs() -> None:
    models = python_blocks(ROOT / "docs" / "barocert.md", "## Models")
    assert len(models) == 1
    exec(compile(models[0], "docs/barocert.md#models", "exec"), {})  # noqa: S102
