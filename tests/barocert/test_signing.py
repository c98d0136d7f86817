"""Barocert's HMAC targets, pinned to the protocol note's vectors (key: the official
examples' public test key; date 2026-01-01T00:00:00Z)."""

from __future__ import annotations

import base64

from kakaocert_async import _signing, _wire
from kakaocert_async._models import TokenRequest
from kakaocert_async.barocert import _wire as barocert_wire

KEY = base64.b64decode("SwWxqU+0TErBXy/9TVjIPEnI0VTUMMSQZtJf3Ed8q3I=")
DATE = "2026-01-01T00:00:00Z"
# The official SDK's token body: json.dumps's default separators.
TOKEN_BODY = b'{"access_id": "", "scope": ["partner", "401", "402", "403", "404", "405"]}'
VERIFY_PATH = "/KAKAO/Sign/Verify/023040000001/02309110230400000010000000000003"


def test_the_token_target_with_the_forwarded_line() -> None:
    target = _signing.token_target(
        TOKEN_BODY, DATE, forwarded="*", path=_signing.BAROCERT_TOKEN_PATH
    )
    assert target == (f"POST\n{_signing.sha256_b64(TOKEN_BODY)}\n{DATE}\n*\n2.0\n/BAROCERT/Token")
    assert _signing.hmac_b64(KEY, target) == "T4J5aqUplVT9pYYkkh0ZXfs+XV4bnSN8B3DGHUm/4GU="


def test_a_verify_target_has_no_hash_line_and_ends_with_the_path() -> None:
    target = _signing.barocert_target(b"", DATE, VERIFY_PATH)
    assert target == f"POST\n{DATE}\n{VERIFY_PATH}\n"
    assert _signing.hmac_b64(KEY, target) == "00c6UfmZ/tQFia0VSJPqRI/0FYt0KmEM/hYCerUfe/c="


def test_a_request_target_hashes_the_exact_body() -> None:
    body = b'{"expireIn": 300}'
    target = _signing.barocert_target(body, DATE, "/KAKAO/Sign/023040000001")
    assert target == f"POST\n{_signing.sha256_b64(body)}\n{DATE}\n/KAKAO/Sign/023040000001\n"
    assert _signing.hmac_b64(KEY, target) == "a+K25Q5Rk4n6BdEBySzXjw2VRdvVrACZNUJAHIs/Voc="


def test_the_2x_targets_are_unchanged() -> None:
    # Same arguments, the 2.x token path: a different signature.
    two_x = _signing.token_target(TOKEN_BODY, DATE, forwarded="*")
    assert two_x.endswith("\n2.0\n/KAKAOCERT/Token")
    assert _signing.hmac_b64(KEY, two_x) != "T4J5aqUplVT9pYYkkh0ZXfs+XV4bnSN8B3DGHUm/4GU="


def test_our_token_body_is_compact_and_names_no_client_code() -> None:
    grant = TokenRequest(access_id=barocert_wire.ACCESS_ID, scope=barocert_wire.SCOPE)
    assert _wire.dumps(_wire.converter.unstructure(grant)) == (
        b'{"access_id":"","scope":["partner","401","402","403","404","405"]}'
    )
