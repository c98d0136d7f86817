"""Start-up cost, by what is loaded (never by timing): importing the package loads no
HTTP library and no cattrs, the first call loads what it needs (and works) on both
backends, and the pytest plugin loads nothing of the SDK in a run without its fixture.

Each check runs in a fresh interpreter, whose ``sys.modules`` is the evidence.
``python -m benchmarks --only startup`` measures the same start-up in milliseconds.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import kakaocert_async
import kakaocert_async.sandbox
from tests._served import served_sandbox
from tests._support import plain_terminal

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "kakaocert_async.sandbox.pytest_plugin"
HEAVY = ("aiohttp", "httpx", "cattrs", "yarl")


def fresh(code: str, **env: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    result = subprocess.run(  # noqa: S603 -- this Python, fixed arguments
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**plain_terminal(), "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


LOADED = f"""
import sys
def loaded():
    return sorted(name for name in {HEAVY!r} if name in sys.modules)
"""


def test_importing_the_package_and_its_names_loads_no_http_library_nor_cattrs() -> None:
    """Nor does making a model; a Client made loads its backend's library (aiohttp
    by default) and the converter: when an application starts, not on its first call."""
    found = fresh(
        LOADED
        + """
import json
import kakaocert_async
package = loaded()
from kakaocert_async import *
from kakaocert_async import Client, ESignRequest
import kakaocert_async.barocert
request = ESignRequest(
    call_center_num="1600-9854", expires_in=60, receiver_birthday="19900108",
    receiver_hp="01012341234", receiver_name="홍길동", token="동의", tms_title="동의",
)
names = loaded()
client = Client("LINK", "c2VjcmV0")
print(json.dumps({"package": package, "names": names, "client": loaded()}))
"""
    )
    assert found == {"package": [], "names": [], "client": ["aiohttp", "cattrs", "yarl"]}


def test_importing_the_package_alone_loads_none_of_its_modules() -> None:
    found = fresh(
        """
        import json, sys
        import kakaocert_async
        ours = sorted(m for m in sys.modules if m.startswith("kakaocert_async"))
        print(json.dumps({"modules": ours}))
        """
    )
    assert found["modules"] == ["kakaocert_async", "kakaocert_async._version"]


FIRST_CALL = (
    LOADED
    + """
import asyncio, json, os
from kakaocert_async import Client, ESignRequest, SignState

REQUEST = ESignRequest(
    call_center_num="1600-9854", expires_in=60, receiver_birthday="19900108",
    receiver_hp="01012341234", receiver_name="홍길동", token="동의", tms_title="동의",
)

def make_client(**options):
    return Client(
        os.environ["KAKAOCERT_LINK_ID"], os.environ["KAKAOCERT_SECRET_KEY"],
        base_url=os.environ["KAKAOCERT_API_URL"], auth_url=os.environ["KAKAOCERT_AUTH_URL"],
        **options,
    )

async def first_call(client):
    code = os.environ["KAKAOCERT_CLIENT_CODE"]
    async with client:
        made = loaded()
        receipt = await client.request_esign(code, REQUEST)
        status = await client.get_esign_state(code, receipt.receipt_id)
        return {
            "made": made, "called": loaded(), "backend": client.http_backend,
            "state": status.state.name,
        }
"""
)


@pytest.fixture(scope="module")
def service() -> Iterator[dict[str, str]]:
    """A sandbox on a loopback port: the ``KAKAOCERT_*`` variables that point at it."""
    with served_sandbox(sign_after=None) as (sandbox, url):
        yield {
            "KAKAOCERT_LINK_ID": sandbox.link_id,
            "KAKAOCERT_SECRET_KEY": sandbox.secret_key,
            "KAKAOCERT_CLIENT_CODE": sandbox.client_code,
            "KAKAOCERT_API_URL": url,
            "KAKAOCERT_AUTH_URL": url,
        }


def test_the_first_call_on_aiohttp_works_and_never_loads_httpx(
    service: dict[str, str],
) -> None:
    found = fresh(
        FIRST_CALL + "print(json.dumps(asyncio.run(first_call(make_client()))))", **service
    )
    assert found == {
        "made": ["aiohttp", "cattrs", "yarl"],
        "called": ["aiohttp", "cattrs", "yarl"],
        "backend": "aiohttp",
        "state": "PENDING",
    }


def test_the_first_call_on_httpx_works_and_never_loads_aiohttp(
    service: dict[str, str],
) -> None:
    found = fresh(
        FIRST_CALL
        + """
import httpx
print(json.dumps(asyncio.run(first_call(make_client(http_client=httpx.AsyncClient())))))
""",
        **service,
    )
    assert found == {
        "made": ["cattrs", "httpx"],  # httpx: the application's own
        "called": ["cattrs", "httpx"],
        "backend": "httpx",
        "state": "PENDING",
    }


def test_a_client_made_before_respx_is_loaded_goes_through_httpx_while_it_mocks(
    service: dict[str, str],
) -> None:
    """The default Client, made while httpx is not even loaded, still sends through
    httpx (where respx sees it) once a respx mock starts: here one that passes the
    calls through to the sandbox, so that they are answered."""
    found = fresh(
        FIRST_CALL
        + """
async def main():
    client = make_client()
    before_respx = loaded()
    import respx
    with respx.mock() as mock:
        mock.route().pass_through()
        result = await first_call(client)
        seen = [call.request.url.path for call in mock.calls]
    return {**result, "before_respx": before_respx, "seen": seen}

print(json.dumps(asyncio.run(main())))
""",
        **service,
    )
    assert found["before_respx"] == ["aiohttp", "cattrs", "yarl"]  # httpx is not loaded yet
    assert found["backend"] == "httpx"
    assert found["state"] == "PENDING"
    paths = list(dict.fromkeys(found["seen"]))  # type: ignore[call-overload]
    # respx saw every exchange (it records a passed-through one twice).
    assert paths[:3] == ["/Time", "/KAKAOCERT/Token", "/SignToken/Request"]
    assert paths[3].startswith("/SignToken/Status/")


# The pytest plugin -----------------------------------------------------------------

CONFTEST = """
import json, sys

def pytest_sessionfinish(session):
    loaded = sorted(m for m in sys.modules if m.startswith("kakaocert_async"))
    with open("loaded.json", "w") as out:
        json.dump(loaded, out)
"""


def plugin_run(project: Path, test: str) -> list[str]:
    """A user's pytest run of ``test`` with the plugin loaded (by its entry point when
    installed, else by ``-p``); the ``kakaocert_async`` modules loaded at its end."""
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (project / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (project / "test_user.py").write_text(textwrap.dedent(test), encoding="utf-8")
    plugins = {e.value for e in importlib.metadata.entry_points(group="pytest11")}
    load = [] if PLUGIN in plugins else ["-p", PLUGIN]
    result = subprocess.run(  # noqa: S603 -- this Python, fixed arguments
        [sys.executable, "-m", "pytest", *load, "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env={**plain_terminal(), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    loaded: list[str] = json.loads((project / "loaded.json").read_text(encoding="utf-8"))
    return loaded


def test_the_plugin_loads_nothing_of_the_sdk_in_a_run_without_its_fixture(
    tmp_path: Path,
) -> None:
    loaded = plugin_run(tmp_path, "def test_plain():\n    assert True\n")
    assert loaded == [
        "kakaocert_async",
        "kakaocert_async._version",
        "kakaocert_async.sandbox",
        PLUGIN,
    ]


def test_the_plugins_fixture_loads_the_sandbox_when_a_test_asks_for_it(tmp_path: Path) -> None:
    loaded = plugin_run(
        tmp_path,
        """
        def test_with(kakaocert_sandbox):
            assert kakaocert_sandbox.client_code == "020040000001"
        """,
    )
    assert "kakaocert_async.sandbox._sandbox" in loaded
    assert "kakaocert_async._client" in loaded


# The names -------------------------------------------------------------------------


def declared(package: ModuleType) -> dict[str, str]:
    """The names the package's ``if TYPE_CHECKING:`` block imports, and their modules."""
    source = Path(package.__file__ or "").read_text(encoding="utf-8")
    names: dict[str, str] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    module = package.__name__ + "." + (statement.module or "")
                    names.update(dict.fromkeys((a.name for a in statement.names), module))
    return names


@pytest.mark.parametrize("package", [kakaocert_async, kakaocert_async.sandbox])
def test_every_public_name_resolves_to_the_object_its_module_defines(
    package: ModuleType,
) -> None:
    """What type checkers see (the ``TYPE_CHECKING`` imports) is what ``__all__`` lists
    and what the package gives at run time, the very object of that module."""
    names = declared(package)
    assert set(names) == set(package.__all__) - {"__version__"}
    for name, module in names.items():
        assert getattr(package, name) is getattr(importlib.import_module(module), name), name
    assert set(package.__all__) <= set(dir(package))
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)  # noqa: S102
    assert set(package.__all__) <= set(namespace)


@pytest.mark.parametrize("package", [kakaocert_async, kakaocert_async.sandbox])
def test_a_name_the_package_does_not_have_is_an_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        package.Nope  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {package.__name__} import Nope", {})  # noqa: S102
