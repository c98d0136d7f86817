"""Take the virtual phone's screenshot for the docs: ``python -m tests.browser.screenshot``.

Serves a sandbox, sends it a few requests (an e-signature, one App to App and
signed, a Barocert multi-sign), opens the e-signature in the page as the receiver
would, and saves the window to ``docs/images/virtual-phone.png`` (or the path
given). Needs Chromium as the browser tests do, and a Korean font for the
receiver's text (Debian: ``apt-get install fonts-nanum``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from kakaocert_async import Client
from kakaocert_async import barocert as bc
from kakaocert_async.sandbox import Sandbox
from tests.barocert._requests import make_request
from tests.browser import _phone
from tests.browser.test_phone import REQUEST

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "images" / "virtual-phone.png"


async def _requests(sandbox: Sandbox, url: str) -> str:
    """Send the requests; the id of the one to open."""
    code = sandbox.client_code
    options = {"base_url": url, "auth_url": url}
    async with (
        Client(sandbox.link_id, sandbox.secret_key, **options) as client,
        bc.Client(sandbox.link_id, sandbox.secret_key, **options) as barocert,
    ):
        await barocert.request_multi_sign(code, make_request(bc.Kind.MULTI_SIGN))
        signed = await client.request_esign(code, REQUEST, app_to_app=True)
        await sandbox.sign(signed.receipt_id)
        receipt = await client.request_esign(code, REQUEST)
    return receipt.receipt_id


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT_PATH
    sandbox = Sandbox(sign_after=None)
    with sandbox.serve_in_thread() as url, _phone.chromium() as driver:
        receipt_id = asyncio.run(_requests(sandbox, url))
        driver.set_window_size(1000, 960)  # the whole phone, without a scroll bar
        phone = _phone.Phone(driver)
        phone.load(url)
        phone.open(receipt_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
