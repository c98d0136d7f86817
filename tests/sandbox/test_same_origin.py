"""Same-origin control: the routes a browser sees (``/_sandbox/...`` and the phone's page)
obey only requests whose ``Host`` is an address the sandbox serves and whose ``Origin``,
when sent, is its own; the protocol routes answer any ``Host``.

Every route of the app is enumerated, so a route added later is covered: it is either a
protocol route (by its path) or it must refuse a foreign page and a DNS-rebinding one,
served and in-process, changing and counting nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from kakaocert_async import Client, SignState, ValidationError
from kakaocert_async.__main__ import build_parser
from kakaocert_async.barocert import Kind
from kakaocert_async.sandbox import Rejection, Sandbox
from kakaocert_async.sandbox import _cli as sandbox_cli
from tests._support import make_request
from tests.barocert._requests import make_request as make_barocert_request
from tests.sandbox._raw import assert_refused

PROTOCOL = ("/Time", "/KAKAOCERT/", "/BAROCERT/", "/SignToken/", "/SignIdentity/")
PROTOCOL += ("/SignDirectDebit/", "/KAKAO/")
"""Path prefixes of the protocol routes, which the SDKs call: every other route is for a
browser, and guarded."""
BODIES = {"/_sandbox/faults": b'{"action": "error"}', "/_sandbox/barocert/logins": b"{}"}
"""What a page would post to the control routes that take a body (else none)."""


def browser_routes(sandbox: Sandbox) -> list[tuple[str, str]]:
    """(method, path template) of every route that is not a protocol route."""
    routes = sandbox.app.app.routes
    assert all(isinstance(route, Route) for route in routes)
    found = [
        (method, route.path)
        for route in routes
        if not route.path.startswith(PROTOCOL)
        for method in sorted(route.methods or ())
        if method != "HEAD"
    ]
    assert len(found) >= 20  # the control routes, the phone's page and its files
    return found


class _Setup:
    """A served or in-process sandbox with a pending receipt of each generation."""

    def __init__(self, sandbox: Sandbox, url: str, http: httpx.AsyncClient) -> None:
        self.sandbox = sandbox
        self.url = url
        self.http = http
        self.host = url.removeprefix("http://")
        self.esign = ""
        self.barocert = ""

    async def receipts(self) -> None:
        async with self.sandbox.client() as client:
            receipt = await client.request_esign(self.sandbox.client_code, make_request())
        async with self.sandbox.barocert_client() as client:
            request = make_barocert_request(Kind.SIGN)
            made = await client.request_sign(self.sandbox.client_code, request)
        self.esign, self.barocert = receipt.receipt_id, made.receipt_id
        self.sandbox.reset_stats()

    def path(self, template: str) -> str:
        receipt = self.barocert if template.startswith("/_sandbox/barocert/") else self.esign
        values = {
            "{receipt_id}": receipt,
            "{command}": "sign",
            "{fault_id:int}": "1",
            "{name}": "phone.js",
        }
        for name, value in values.items():
            template = template.replace(name, value)
        return template

    async def call(self, method: str, template: str, headers: dict[str, str]) -> httpx.Response:
        body = BODIES.get(template) if method == "POST" else None
        return await self.http.request(method, self.path(template), content=body, headers=headers)

    def untouched(self) -> None:
        """Nothing a control route does happened, and nothing was counted."""
        sandbox = self.sandbox
        assert sum(sandbox.stats.values()) == 0, sandbox.stats
        state = sandbox.state(self.esign)
        assert (state.state, state.view_dt) == (SignState.PENDING, None)
        assert sandbox.barocert.state(self.barocert).state == 0
        assert sandbox.faults.listing() == []


@pytest.fixture(params=["served", "in-process"])
async def setup(request: pytest.FixtureRequest) -> AsyncIterator[_Setup]:
    sandbox = Sandbox(sign_after=None)
    if request.param == "served":
        async with sandbox.serve() as url, httpx.AsyncClient(base_url=url) as http:
            made = _Setup(sandbox, url, http)
            await made.receipts()
            yield made
    else:
        async with sandbox.http_client() as http:
            made = _Setup(sandbox, sandbox.url, http)
            await made.receipts()
            yield made


def _forgeries(setup: _Setup) -> list[tuple[dict[str, str], Rejection]]:
    """A page elsewhere (another site, another port of this host, a sandboxed frame or a
    file), and a page whose name was rebound to this address (DNS rebinding)."""
    scheme_host = setup.url
    other_port = setup.host.rsplit(":", 1)[0] + ":1"
    rebound = "evil.example:" + (setup.host.rsplit(":", 1)[1] if ":" in setup.host else "80")
    return [
        ({"Origin": "http://evil.example"}, Rejection.FOREIGN_ORIGIN),
        ({"Origin": f"http://{other_port}"}, Rejection.FOREIGN_ORIGIN),
        ({"Origin": "null"}, Rejection.FOREIGN_ORIGIN),
        ({"Origin": scheme_host + "/"}, Rejection.FOREIGN_ORIGIN),
        ({"Host": rebound}, Rejection.FOREIGN_HOST),
        ({"Host": rebound, "Origin": f"http://{rebound}"}, Rejection.FOREIGN_HOST),
        ({"Host": "localhost.evil.example"}, Rejection.FOREIGN_HOST),
    ]


async def test_every_browser_route_refuses_foreign_pages_and_rebound_names(
    setup: _Setup,
) -> None:
    routes = browser_routes(setup.sandbox)
    for method, template in routes:
        for headers, rejection in _forgeries(setup):
            response = await setup.call(method, template, headers)
            assert_refused(response, rejection)
    setup.untouched()

    # The same calls from the sandbox's own page are obeyed (the refusals were not for
    # want of a route): none is refused as foreign, and the receipt was signed.
    own = {"Origin": setup.url}
    for method, template in routes:
        response = await setup.call(method, template, own)
        assert response.status_code != 403, (method, template, response.text)
    assert setup.sandbox.state(setup.esign).state is not SignState.PENDING


async def test_the_loopback_names_of_the_served_port_are_its_own() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox.serve(host="127.0.0.1") as url, httpx.AsyncClient(base_url=url) as http:
        port = url.rsplit(":", 1)[1]
        for host in (
            f"127.0.0.1:{port}",
            f"localhost:{port}",
            f"[::1]:{port}",
            f"LocalHost:{port}",
        ):
            for headers in ({"Host": host}, {"Host": host, "Origin": f"http://{host.lower()}"}):
                response = await http.get("/_sandbox/settings", headers=headers)
                assert response.status_code == 200, (headers, response.text)
        for host in ("localhost", "localhost:1", f"127.0.0.2:{port}", f"example.com:{port}"):
            response = await http.get("/_sandbox/settings", headers={"Host": host})
            assert_refused(response, Rejection.FOREIGN_HOST)
        refused = await http.get("/_sandbox/settings", headers={"Host": "a b"})
        assert_refused(refused, Rejection.FOREIGN_HOST)
        assert "a b" not in refused.json()["message"]  # a Host that is no name is not echoed


async def test_allowed_hosts_add_names_for_a_sandbox_reached_otherwise() -> None:
    """A container or a proxy: the browser names the sandbox by a name it cannot know."""
    sandbox = Sandbox(sign_after=None, allowed_hosts=["Sandbox.Test", "proxy.test:8443"])
    assert sandbox.settings.allowed_hosts == ("sandbox.test", "proxy.test:8443")
    async with sandbox.serve() as url, httpx.AsyncClient(base_url=url) as http:
        for host in ("sandbox.test", "sandbox.test:18100", "proxy.test:8443"):
            for origin in ({}, {"Origin": f"http://{host}"}, {"Origin": f"https://{host}"}):
                response = await http.get("/_sandbox/settings", headers={"Host": host, **origin})
                assert response.status_code == 200, (host, origin, response.text)
        assert response.json()["allowedHosts"] == ["sandbox.test", "proxy.test:8443"]
        for host in ("proxy.test", "proxy.test:8080", "other.test"):
            response = await http.get("/_sandbox/settings", headers={"Host": host})
            assert_refused(response, Rejection.FOREIGN_HOST)
        foreign = {"Host": "sandbox.test", "Origin": "http://proxy.test:8443"}
        assert_refused(await http.get("/_sandbox/stats", headers=foreign), Rejection.FOREIGN_ORIGIN)


@pytest.mark.parametrize("hosts", [["http://sandbox.test"], ["a b"], [""], [3], 3, ["x:port"]])
def test_allowed_hosts_are_names(hosts: Any) -> None:
    with pytest.raises(ValidationError, match="allowed_hosts"):
        Sandbox(allowed_hosts=hosts)


async def test_protocol_routes_answer_whatever_host_a_client_uses() -> None:
    sandbox = Sandbox(sign_after=None)
    async with sandbox.serve(host="127.0.0.1") as url:
        port = url.rsplit(":", 1)[1]
        for base in (url, f"http://localhost:{port}"):
            async with Client(
                sandbox.link_id, sandbox.secret_key, base_url=base, auth_url=base
            ) as client:
                receipt = await client.request_esign(sandbox.client_code, make_request())
                await sandbox.sign(receipt.receipt_id)
                status = await client.get_esign_state(sandbox.client_code, receipt.receipt_id)
                assert status.state is SignState.SIGNED
        async with httpx.AsyncClient(base_url=url) as http:
            foreign = {"Host": "evil.example", "Origin": "http://evil.example"}
            assert (await http.get("/Time", headers=foreign)).status_code == 200


def test_the_command_line_adds_names(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kakaocert_async.sandbox import _server

    served: dict[str, Any] = {}

    def fake_run_forever(app: Any, **options: Any) -> None:
        served["guard"] = app
        options["on_started"]("http://0.0.0.0:8100")

    monkeypatch.setattr(_server, "run_forever", fake_run_forever)
    argv = ["sandbox", "--allow-host", "box.test", "--allow-host", "proxy.test:8443"]
    assert sandbox_cli.run(build_parser().parse_args(argv)) == 0
    assert "allow_host   box.test, proxy.test:8443" in capsys.readouterr().out
    assert served["guard"].allowed == [("box.test", None), ("proxy.test", 8443)]
    assert sandbox_cli.run(build_parser().parse_args(["sandbox", "--allow-host", "a/b"])) == 1
    assert "allowed_hosts" in capsys.readouterr().err
