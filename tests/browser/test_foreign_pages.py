"""Pages that are not the sandbox's, in a real headless Chromium: one on another origin
(with the page's own JavaScript) and one whose name resolves to the sandbox (DNS
rebinding) try the control routes the phone uses, and nothing happens."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kakaocert_async import Client, SignState
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE as CODE
from kakaocert_async.sandbox import Rejection, Sandbox
from tests._support import make_request
from tests.browser._phone import REBOUND_NAME, Phone
from tests.browser.test_phone import in_browser

ATTEMPTS = """
const [base, receipt, done] = arguments;
const tries = {
  sign: [`${base}/_sandbox/receipts/${receipt}/sign`, {method: "POST"}],
  sign_no_cors: [`${base}/_sandbox/receipts/${receipt}/sign`, {method: "POST", mode: "no-cors"}],
  open_no_cors: [`${base}/_sandbox/receipts/${receipt}/open`, {method: "POST", mode: "no-cors"}],
  fault_no_cors: [`${base}/_sandbox/faults`, {
    method: "POST", mode: "no-cors", body: '{"action": "error"}',
    headers: {"Content-Type": "text/plain"},
  }],
  fault: [`${base}/_sandbox/faults`, {
    method: "POST", body: '{"action": "error"}', headers: {"Content-Type": "application/json"},
  }],
  revoke: [`${base}/_sandbox/tokens`, {method: "DELETE"}],
  read: [`${base}/_sandbox/receipts/${receipt}/request`, {}],
};
const results = {};
Promise.all(Object.entries(tries).map(([name, [url, options]]) =>
  fetch(url, options).then(
    async (r) => {
      results[name] = {status: r.status, body: r.type === "opaque" ? "" : await r.text()};
    },
    (e) => { results[name] = {error: String(e)}; },
  ))).then(() => done(results));
"""


@pytest.fixture
def elsewhere() -> Iterator[str]:
    """A plain page on another origin (another port of this machine)."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = b"<!doctype html><title>Elsewhere</title><p>someone else's page</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _attempt(driver: Any, page: str, base: str, receipt_id: str) -> dict[str, Any]:
    driver.get(page)
    driver.set_script_timeout(15)
    results: dict[str, Any] = driver.execute_async_script(ATTEMPTS, base, receipt_id)
    return results


def _nothing_happened(sandbox: Sandbox, receipt_id: str) -> None:
    state = sandbox.state(receipt_id)
    assert (state.state, state.view_dt) == (SignState.PENDING, None)
    assert sandbox.faults.listing() == []
    assert sandbox.stats["control"] == 0


async def test_a_page_on_another_origin_cannot_sign_inject_faults_or_read(
    chromium: Any, served: tuple[Sandbox, str], elsewhere: str
) -> None:
    sandbox, url = served
    async with Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as client:
        receipt = await client.request_esign(CODE, make_request())
        sandbox.reset_stats()
        results = await in_browser(_attempt, chromium, f"{elsewhere}/", url, receipt.receipt_id)
        # Reading is the browser's to forbid (no CORS headers): every fetch that is not
        # opaque fails; the no-cors ones were sent, and refused by the sandbox.
        for name in ("sign", "fault", "revoke", "read"):
            assert "TypeError" in results[name].get("error", ""), (name, results[name])
        _nothing_happened(sandbox, receipt.receipt_id)
        # The client's token was not revoked: its next call needs no new one.
        tokens = sandbox.stats["token"]
        await client.get_esign_state(CODE, receipt.receipt_id)
        assert sandbox.stats["token"] == tokens


async def test_a_rebound_name_gets_neither_the_phone_nor_the_control_routes(
    chromium: Any, served: tuple[Sandbox, str]
) -> None:
    sandbox, url = served
    port = url.rsplit(":", 1)[1]
    rebound = f"http://{REBOUND_NAME}:{port}"
    async with Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as client:
        receipt = await client.request_esign(CODE, make_request())
        sandbox.reset_stats()
        # The attacker's page, same-origin with the sandbox's port once its name resolves
        # here, asks for the phone and the routes: it may read every answer, all refusals.
        results = await in_browser(_attempt, chromium, f"{rebound}/", rebound, receipt.receipt_id)
        page = await in_browser(lambda: chromium.find_element("tag name", "body").text)

        assert json.loads(page)["code"] == Rejection.FOREIGN_HOST.code
        assert len(results) == 7
        for name, result in results.items():
            assert result.get("status") == 403, (name, result)
            assert json.loads(result["body"])["code"] == Rejection.FOREIGN_HOST.code
        _nothing_happened(sandbox, receipt.receipt_id)


async def test_the_phone_still_works_after_foreign_pages_tried(
    chromium: Any, served: tuple[Sandbox, str], elsewhere: str
) -> None:
    sandbox, url = served
    async with Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as client:
        receipt = await client.request_esign(CODE, make_request())
        await in_browser(_attempt, chromium, f"{elsewhere}/", url, receipt.receipt_id)
        phone = Phone(chromium)
        await in_browser(phone.load, url)
        await in_browser(phone.open, receipt.receipt_id)
        await in_browser(phone.press, "sign")
        await in_browser(phone.wait_state, 1)
        status = await client.get_esign_state(CODE, receipt.receipt_id)
        assert status.state is SignState.SIGNED
        await in_browser(chromium.get, "about:blank")  # the page stops polling
