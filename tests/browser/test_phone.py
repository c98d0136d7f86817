"""The virtual phone in a real headless Chromium: a developer opens a receipt on the page
and signs it, lets it expire or refuses it by clicking, while a client of the served
sandbox awaits it over the network and sees what was done."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import pytest

from kakaocert_async import Client, SignState
from kakaocert_async import barocert as bc
from kakaocert_async.barocert import State
from kakaocert_async.sandbox import DEFAULT_CLIENT_CODE as CODE
from kakaocert_async.sandbox import Sandbox
from tests._served import expected_signed_data
from tests._support import make_request
from tests.barocert._requests import make_request as make_barocert_request
from tests.browser._phone import Phone

T = TypeVar("T")

REQUEST = make_request(
    token="본인은 위 계약 내용에 동의합니다.",
    tms_title="임대차 계약 동의",
    tms_message="계약서를 확인하고 서명해 주세요.",
)
POLL = {"interval": 0.05, "timeout": 60.0}


async def in_browser(step: Callable[..., T], *args: Any) -> T:
    """Run a (blocking) browser step off the event loop, so the client keeps polling."""
    return await asyncio.to_thread(step, *args)


@pytest.fixture
async def client(served: tuple[Sandbox, str]) -> AsyncIterator[Client]:
    """A client of the served sandbox, over the network as any program's."""
    sandbox, url = served
    async with Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as client:
        yield client


@pytest.fixture
async def barocert(served: tuple[Sandbox, str]) -> AsyncIterator[bc.Client]:
    """A Barocert client of the served sandbox."""
    sandbox, url = served
    async with bc.Client(sandbox.link_id, sandbox.secret_key, base_url=url, auth_url=url) as client:
        yield client


async def test_a_receipt_signed_on_the_phone_is_signed_for_the_waiting_client(
    phone: Phone, served: tuple[Sandbox, str], client: Client
) -> None:
    sandbox, _ = served
    receipt = await client.request_esign(CODE, REQUEST)
    waiting = asyncio.create_task(client.await_signed(CODE, receipt, **POLL))

    shown = await in_browser(phone.open, receipt.receipt_id)
    # As the receiver reads it: the title, the message, the text to sign.
    assert shown.title == REQUEST.tms_title
    assert shown.message == REQUEST.tms_message
    assert shown.text == REQUEST.token
    assert shown.fields["ReceiverName"] == "홍길동"
    assert shown.state.startswith("Pending")
    assert await in_browser(phone.buttons) == {"sign": True, "expire": True}
    # Opening it is reading the KakaoTalk message.
    assert sandbox.state(receipt.receipt_id).view_dt is not None
    await asyncio.sleep(0.2)
    assert not waiting.done()

    await in_browser(phone.press, "sign")
    status = await waiting
    assert status.state is SignState.SIGNED
    verified = await client.verify_esign(CODE, receipt.receipt_id)
    assert verified.signed_data == expected_signed_data(sandbox, receipt.receipt_id, REQUEST.token)
    await in_browser(phone.wait_state, 1)
    assert await in_browser(phone.buttons) == {"sign": False, "expire": False}


async def test_a_receipt_left_to_expire_on_the_phone_is_expired_for_the_client(
    phone: Phone, client: Client
) -> None:
    receipt = await client.request_esign(CODE, REQUEST)
    waiting = asyncio.create_task(client.await_signed(CODE, receipt, **POLL))
    await in_browser(phone.open, receipt.receipt_id)
    await in_browser(phone.press, "expire")
    assert (await waiting).state is SignState.EXPIRED
    await in_browser(phone.wait_state, 2)
    assert await in_browser(phone.buttons) == {"sign": False, "expire": False}


async def test_app_to_app_shows_the_signature_the_app_verifies_with(
    phone: Phone, served: tuple[Sandbox, str], client: Client
) -> None:
    sandbox, _ = served
    receipt = await client.request_esign(CODE, REQUEST, app_to_app=True)
    waiting = asyncio.create_task(client.await_signed(CODE, receipt, **POLL))
    await in_browser(phone.open, receipt.receipt_id)
    await in_browser(phone.press, "sign")
    signature = await in_browser(phone.signature)
    assert (await waiting).state is SignState.SIGNED

    # What the page shows is what KakaoTalk hands the app, and verify takes it.
    verified = await client.verify_esign(CODE, receipt.receipt_id, signature)
    assert verified.receipt_id == receipt.receipt_id
    assert verified.signed_data == expected_signed_data(sandbox, receipt.receipt_id, REQUEST.token)


async def test_barocert_receipts_show_the_decrypted_request_and_can_be_refused_or_signed(
    phone: Phone, barocert: bc.Client
) -> None:
    sign = make_barocert_request(
        bc.Kind.SIGN, token="임대차 계약서 전문", sign_title="임대차 계약서"
    )
    refused = await barocert.request_sign(CODE, sign)
    waiting = asyncio.create_task(barocert.await_completed(CODE, refused, **POLL))

    shown = await in_browser(phone.open, refused.receipt_id)
    # The client sent these encrypted; the phone shows them as the receiver reads them.
    assert shown.title == "임대차 계약서"
    assert shown.message == sign.extra_message
    assert shown.text == "임대차 계약서 전문"
    assert shown.fields["receiverName"] == "홍길동"
    assert shown.fields["receiverHP"] == "01012341234"
    assert shown.fields["tokenType"] == "TEXT"
    assert await in_browser(phone.buttons) == {"sign": True, "refuse": True, "expire": True}
    await in_browser(phone.press, "refuse")
    assert (await waiting).state is State.REFUSED
    await in_browser(phone.wait_state, 3)

    await in_browser(phone.back)
    identity = await barocert.request_identity(CODE, make_barocert_request(bc.Kind.IDENTITY))
    waiting = asyncio.create_task(barocert.await_completed(CODE, identity, **POLL))
    shown = await in_browser(phone.open, identity.receipt_id)
    assert shown.text == "nonce-81f3"
    await in_browser(phone.press, "sign")
    assert (await waiting).state is State.COMPLETED
    verified = await barocert.verify_identity(CODE, identity.receipt_id)
    assert verified.signed_data == "nonce-81f3"


# Read on any machine --------------------------------------------------------------


_DRAWN = """
const [text, font] = arguments;
const canvas = document.createElement("canvas");
canvas.width = 120; canvas.height = 40;
const pen = canvas.getContext("2d");
pen.font = font; pen.fillStyle = "#000"; pen.fillText(text, 2, 30);
return canvas.toDataURL();
"""


async def test_hangul_is_drawn_in_a_font_of_the_page_not_as_boxes(phone: Phone) -> None:
    # Drawn in the page's own font, Korean must differ from a character no font has
    # (which every machine draws as the same empty box): else it reads as boxes.
    font = await in_browser(
        phone.driver.execute_script,
        "return '15px ' + getComputedStyle(document.body).fontFamily;",
    )
    hangul = await in_browser(phone.driver.execute_script, _DRAWN, "대기 완료", font)
    boxes = await in_browser(phone.driver.execute_script, _DRAWN, "\U000e0f00" * 5, font)
    assert hangul != boxes, f"no Korean font of {font!r} on this machine: install fonts-nanum"


async def test_times_say_korea_time_and_a_refusal_no_expiry(
    phone: Phone, barocert: bc.Client, client: Client
) -> None:
    signed = await client.request_esign(CODE, REQUEST)
    refused = await barocert.request_sign(CODE, make_barocert_request(bc.Kind.SIGN))
    for receipt_id, action, state in (
        (signed.receipt_id, "sign", 1),
        (refused.receipt_id, "refuse", 3),
    ):
        await in_browser(phone.open, receipt_id)
        await in_browser(phone.press, action)
        await in_browser(phone.wait_state, state)
        line = (await in_browser(phone.shown)).state
        if action == "sign":
            assert line.endswith(" KST"), line  # when it was signed, in the service's zone
        else:
            assert " at " not in line, line  # no completeDT: not its expiry as a refusal time
        await in_browser(phone.back)
    rows = await in_browser(
        phone.driver.execute_script,
        "return [...document.querySelectorAll('#inbox li')].map(li => li.textContent);",
    )
    row = next(text for text in rows if "Refused" in text)
    assert " at " not in row, row
