"""The testing guides work as written: their snippets pass in a new project, installed as they say.

``docs/testing.md`` and ``docs/fastapi-testing.md`` mark each snippet that is a file
of the reader's project with
its name (a fenced block's ``title="tests/test_signing.py"``) and gives its install
commands as ``sh`` blocks of ``pip install ...``. The test below reads them from
the page, so the page and the test cannot drift: it makes a throwaway project in a
temporary directory, a fresh virtualenv, runs the page's ``pip install`` lines
there (``kakaocert-async`` replaced by this checkout), writes the files, and runs
pytest, which must pass every test without a warning; then once more in
pytest-asyncio's strict mode, for the page's strict-mode snippet.

It installs from the package index (about 20-30 s in all), so it is marked
``install`` and left out of the default run: ``pytest -m install`` runs it (CI
does, in its own step).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests._support import plain_terminal

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "testing.md"
FASTAPI_GUIDE = ROOT / "docs" / "fastapi-testing.md"
_FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
_TITLE = re.compile(r'title="([^"]+)"')
PACKAGE = "kakaocert-async"


def guide_files(text: str) -> dict[str, str]:
    """File name -> contents, for every fenced block with a ``title`` (blocks of one
    name are joined, in the page's order)."""
    files: dict[str, str] = {}
    for _, info, body in _FENCE.findall(text):
        title = _TITLE.search(info)
        if title is not None:
            files[title.group(1)] = files.get(title.group(1), "") + body
    return files


def guide_installs(text: str) -> list[list[str]]:
    """The ``pip install`` commands of the page's ``sh`` blocks, as argument lists."""
    commands = []
    for language, _, body in _FENCE.findall(text):
        for line in body.splitlines():
            if language == "sh" and line.startswith("pip install "):
                commands.append(shlex.split(line.split("#", 1)[0]))
    return commands


def from_this_checkout(argument: str) -> str:
    """``kakaocert-async[sandbox]`` -> ``<checkout>[sandbox]``; other arguments as they are."""
    if argument == PACKAGE or argument.startswith(f"{PACKAGE}["):
        return str(ROOT) + argument[len(PACKAGE) :]
    return argument


def test_the_guide_names_its_files_and_installs() -> None:
    text = GUIDE.read_text("utf-8")
    files = guide_files(text)
    assert {"pyproject.toml", "tests/conftest.py", "tests/test_signing.py"} <= set(files)
    assert len([name for name in files if name.startswith("tests/test_")]) >= 8
    installs = guide_installs(text)
    assert installs[0] == [
        "pip",
        "install",
        "kakaocert-async[sandbox]",
        "pytest",
        "pytest-asyncio>=0.24",
    ]
    assert from_this_checkout("kakaocert-async[sandbox]") == f"{ROOT}[sandbox]"


def test_the_fastapi_guide_names_its_files_and_installs() -> None:
    text = FASTAPI_GUIDE.read_text("utf-8")
    assert {"pyproject.toml", "app.py", "tests/conftest.py", "tests/test_app.py"} <= set(
        guide_files(text)
    )
    assert "fastapi" in guide_installs(text)[0]


@pytest.mark.install
@pytest.mark.parametrize("guide", [GUIDE, FASTAPI_GUIDE], ids=lambda path: path.name)
def test_the_guides_snippets_pass_in_a_new_project(tmp_path: Path, guide: Path) -> None:
    text = guide.read_text("utf-8")
    project = tmp_path / "project"
    for name, contents in guide_files(text).items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(contents, encoding="utf-8")

    # A clean environment: nothing of this checkout's, no credentials.
    env = plain_terminal(
        {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KAKAOCERT_", "BAROCERT_", "PYTEST_", "VIRTUAL_ENV"))
            and key not in {"PYTHONPATH", "PYTHONHOME"}
        }
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python, pytest_command = str(scripts / "python"), str(scripts / "pytest")
    for command in guide_installs(text):
        assert command[:2] == ["pip", "install"], command
        arguments = [from_this_checkout(argument) for argument in command[2:]]
        installed = subprocess.run(  # noqa: S603 -- the guide's own pip commands
            [python, "-m", "pip", "install", "--quiet", *arguments],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert installed.returncode == 0, installed.stdout + installed.stderr

    def pytest_in_project(*options: str) -> str:
        ran = subprocess.run(  # noqa: S603 -- the project's own pytest, as a user types it
            [pytest_command, "-p", "no:cacheprovider", "-W", "error", "-rA", *options],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        out = ran.stdout + ran.stderr
        assert ran.returncode == 0, out
        assert "warning" not in out.lower(), out
        return out

    tests = sum(
        body.count("\ndef test_") + body.count("\nasync def test_")
        for name, body in guide_files(text).items()
        if name.startswith("tests/test_")
    )
    out = pytest_in_project()
    assert re.search(rf"\b{tests} passed\b", out), out
    if guide is GUIDE:
        strict = pytest_in_project("-o", "asyncio_mode=strict", "tests/test_strict_mode.py")
        assert re.search(r"\b1 passed\b", strict), strict
