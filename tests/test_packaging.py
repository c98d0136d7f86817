"""What a company's open-source intake reads: the built sdist and wheel carry the licence
text the metadata names (built here from this checkout, with the build backend from the
package index: ``pytest -m install``)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist and the wheel, built from this checkout in a fresh virtualenv."""
    where = tmp_path_factory.mktemp("built")
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    python = str(venv / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "build"]
    subprocess.run(pip, check=True)  # noqa: S603
    out = where / "dist"
    command = [python, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(ROOT)]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603
    [sdist] = out.glob("*.tar.gz")
    [wheel] = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


LICENSE = (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_the_licence_is_mit_as_the_metadata_says() -> None:
    assert LICENSE.startswith("MIT License\n")


@pytest.mark.install
def test_the_wheel_carries_the_licence_its_metadata_names(built: dict[str, Path]) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = wheel.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        headers = Parser().parsestr(wheel.read(metadata).decode())
        assert headers["License-Expression"] == "MIT"
        assert headers.get_all("License-File") == ["LICENSE"]
        [licence] = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert wheel.read(licence).decode() == LICENSE


@pytest.mark.install
def test_the_sdist_carries_the_licence(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as sdist:
        [licence] = [m for m in sdist.getmembers() if m.name.endswith("/LICENSE")]
        text = sdist.extractfile(licence)
        assert text is not None
        assert text.read().decode() == LICENSE
        [pkg_info] = [
            m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("PKG-INFO")
        ]
        info = sdist.extractfile(pkg_info)
        assert info is not None
        assert Parser().parsestr(info.read().decode())["License-Expression"] == "MIT"
