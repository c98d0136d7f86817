"""The virtual phone's HTTP side: the page and its files at the root, and the JSON routes
it reads (receipts of every family and of Barocert, newest first; a 2.x request as
received). The page itself is driven in a real browser in ``tests/browser``."""

from __future__ import annotations

import re

from kakaocert_async.barocert import Kind
from kakaocert_async.sandbox import DEFAULT_SECRET_KEY, Rejection, Sandbox
from tests.barocert._requests import make_request
from tests.sandbox._barocert_raw import BarocertRaw
from tests.sandbox._raw import CMS, IDENTITY, FakeClock, Raw, assert_refused


async def test_the_page_and_its_files_are_served_at_the_root(raw: Raw, sandbox: Sandbox) -> None:
    page = await raw.http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "<title>Virtual phone" in page.text
    # Everything the page loads is served here, with its type.
    loaded = re.findall(r'(?:href|src)="(/[^"]+)"', page.text)
    assert sorted(loaded) == ["/_sandbox/phone/phone.css", "/_sandbox/phone/phone.js"]
    types = {"css": "text/css", "js": "text/javascript"}
    for path in loaded:
        response = await raw.http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(types[path.rsplit(".", 1)[1]])
        assert response.content
    assert_refused(await raw.http.get("/_sandbox/phone/secrets.txt"), Rejection.NOT_FOUND)
    assert_refused(await raw.http.get("/_sandbox/phone/_phone.py"), Rejection.NOT_FOUND)
    assert_refused(await raw.http.post("/"), Rejection.METHOD_NOT_ALLOWED)
    assert sandbox.stats["control"] == 5  # the page's own calls are control calls
    assert sandbox.stats["other"] == 1


async def test_receipts_of_every_family_are_listed_newest_first(
    raw: Raw, sandbox: Sandbox, clock: FakeClock
) -> None:
    token = await raw.session()
    first = (await raw.receipt(token))["receiptId"]
    clock.advance(1)
    identity = (await raw.receipt(token, IDENTITY))["receiptId"]
    clock.advance(1)
    cms = (await raw.receipt(token, CMS, isAppUseYN=True))["receiptId"]
    await sandbox.sign(first)

    listing = (await raw.http.get("/_sandbox/receipts")).json()
    assert listing["total"] == 3
    assert listing["time"] == sandbox.service.server_time()
    receipts = listing["receipts"]
    assert [(r["receiptID"], r["family"]) for r in receipts] == [
        (cms, "cms"),
        (identity, "identity"),
        (first, "esign"),
    ]
    assert [r["state"] for r in receipts] == [0, 0, 1]
    assert receipts[0]["appUseYN"] is True
    assert receipts[1]["tmstitle"] == "계약 서명"
    # Each entry is the receipt's state, as GET /_sandbox/receipts/{id} gives it.
    alone = (await raw.http.get(f"/_sandbox/receipts/{first}")).json()
    assert receipts[2] == {"family": "esign", **alone}

    newest = (await raw.http.get("/_sandbox/receipts", params={"limit": 2})).json()
    assert newest["total"] == 3
    assert [r["receiptID"] for r in newest["receipts"]] == [cms, identity]
    for bad in ("0", "1001", "-1", "two", "", "٣"):
        response = await raw.http.get("/_sandbox/receipts", params={"limit": bad})
        assert_refused(response, Rejection.CONTROL_INVALID)
        assert "limit" in response.json()["message"]


async def test_a_request_is_shown_as_received(raw: Raw) -> None:
    token = await raw.session()
    esign = (await raw.receipt(token))["receiptId"]
    cms = (await raw.receipt(token, CMS))["receiptId"]

    answer = (await raw.http.get(f"/_sandbox/receipts/{esign}/request")).json()
    assert answer["receiptID"] == esign
    assert answer["family"] == "esign"
    request = answer["request"]
    # What the receiver's phone shows: the title, the message and the text to sign.
    assert request["TMSTitle"] == "계약 서명"
    assert request["TMSMessage"] == "계약서에 서명해 주세요"
    assert request["Token"] == "전자서명 원문"
    assert request["ReceiverName"] == "홍길동"

    answer = (await raw.http.get(f"/_sandbox/receipts/{cms}/request")).json()
    assert answer["family"] == "cms"
    assert answer["request"]["BankAccountNum"] == "9-4324-5**7-58"
    assert "Token" not in answer["request"]
    assert_refused(
        await raw.http.get("/_sandbox/receipts/000000000000000009/request"),
        Rejection.RECEIPT_UNKNOWN,
    )


async def test_barocert_receipts_are_listed_newest_first(
    bc: BarocertRaw, sandbox: Sandbox, clock: FakeClock
) -> None:
    sign = await bc.receipt(Kind.SIGN, make_request(Kind.SIGN, app_to_app=True))
    clock.advance(1)
    multi = await bc.receipt(Kind.MULTI_SIGN)
    sandbox.barocert.refuse(sign)

    listing = (await bc.http.get("/_sandbox/barocert/receipts")).json()
    assert listing["total"] == 2
    assert listing["time"] == sandbox.service.server_time()
    receipts = listing["receipts"]
    assert [(r["receiptID"], r["kind"], r["state"]) for r in receipts] == [
        (multi, "MultiSign", 0),
        (sign, "Sign", 3),
    ]
    assert receipts[1]["scheme"].startswith("kakaotalk://")
    alone = (await bc.http.get(f"/_sandbox/barocert/receipts/{sign}")).json()
    assert receipts[1] == {"kind": "Sign", **alone}
    one = (await bc.http.get("/_sandbox/barocert/receipts", params={"limit": 1})).json()
    assert [r["receiptID"] for r in one["receipts"]] == [multi]
    assert_refused(
        await bc.http.get("/_sandbox/barocert/receipts", params={"limit": "x"}),
        Rejection.CONTROL_INVALID,
    )


async def test_nothing_the_page_reads_holds_the_secret_key_or_a_session_token(
    raw: Raw, bc: BarocertRaw, sandbox: Sandbox
) -> None:
    token = await raw.session()
    barocert_token = await bc.session()
    esign = (await raw.receipt(token, isAppUseYN=True))["receiptId"]
    sign = await bc.receipt(Kind.SIGN)
    await sandbox.sign(esign)
    paths = [
        "/",
        "/_sandbox/phone/phone.js",
        "/_sandbox/phone/phone.css",
        "/_sandbox/settings",
        "/_sandbox/receipts",
        f"/_sandbox/receipts/{esign}",
        f"/_sandbox/receipts/{esign}/request",
        f"/_sandbox/receipts/{esign}/signature",
        "/_sandbox/barocert/receipts",
        f"/_sandbox/barocert/receipts/{sign}",
        f"/_sandbox/barocert/receipts/{sign}/request",
    ]
    for path in paths:
        text = (await raw.http.get(path)).text
        assert DEFAULT_SECRET_KEY not in text, path
        assert token not in text, path
        assert barocert_token not in text, path
