"""KakaoCert 2.x's named hosts: the official SDKs' ``UseStaticIP`` and ``UseGAIP`` hosts,
as exported constants, and the hosts a client given them actually calls."""

from __future__ import annotations

import json
import time

import httpx
import pytest

import kakaocert_async
from kakaocert_async import Client
from tests._support import CLIENT_CODE, LINK_ID, RECEIPT_ID, SECRET_KEY, status_json, utc

NAMED = {
    "static": (kakaocert_async.STATIC_API_URL, kakaocert_async.STATIC_AUTH_URL),
    "ga": (kakaocert_async.GA_API_URL, kakaocert_async.GA_AUTH_URL),
    "default": (kakaocert_async.API_URL, kakaocert_async.AUTH_URL),
}


def test_the_hosts_are_the_official_sdks() -> None:
    service = pytest.importorskip("kakaocert.kakaocertService")
    linkhub = pytest.importorskip("linkhub.linkhub")
    official = {
        "static": (service.ServiceURL_Static, linkhub.LINKHUB_ServiceURL_Static),
        "ga": (service.ServiceURL_GA, linkhub.LINKHUB_ServiceURL_GA),
        "default": (service.ServiceURL, linkhub.LINKHUB_ServiceURL),
    }
    assert {
        mode: tuple(f"https://{host}" for host in hosts) for mode, hosts in official.items()
    } == NAMED


@pytest.mark.parametrize("mode", NAMED)
async def test_a_client_given_the_named_hosts_calls_them(mode: str) -> None:
    api, auth = NAMED[mode]
    called: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        called.append(
            f"{request.method} {request.url.scheme}://{request.url.host}{request.url.path}"
        )
        if request.url.path == "/Time":
            return httpx.Response(200, text=utc(time.time()))
        if request.url.path == "/KAKAOCERT/Token":
            token = {"session_token": "t", "expiration": utc(time.time() + 3600)}
            return httpx.Response(200, json=token)
        return httpx.Response(200, content=json.dumps(status_json()).encode())

    transport = httpx.MockTransport(answer)
    async with Client(LINK_ID, SECRET_KEY, base_url=api, auth_url=auth, transport=transport) as c:
        await c.get_esign_state(CLIENT_CODE, RECEIPT_ID)
    assert called == [
        f"GET {auth}/Time",
        f"POST {auth}/KAKAOCERT/Token",
        f"GET {api}/SignToken/Status/{RECEIPT_ID}",
    ]
