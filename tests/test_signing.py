"""Known-answer tests: the expected values were computed once with openssl.

KEY=$(printf '%s' 0123456789abcdef0123456789abcdef | xxd -p -c 100)
printf '%s' "$BODY" | openssl dgst -sha256 -binary | openssl base64
printf "$TARGET" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY -binary | openssl base64
"""

from __future__ import annotations

import pytest

from kakaocert_async import _signing, _wire
from kakaocert_async._models import TokenRequest
from kakaocert_async._session import SCOPE
from tests._support import KEY, SECRET_KEY, make_request

DATE = "2026-11-28T05:00:00Z"
TOKEN_BODY = b'{"access_id":"020040000001","scope":["member","310","320","330"]}'


def test_secret_key_decodes_to_the_raw_key() -> None:
    assert _signing.decode_secret_key(SECRET_KEY) == KEY


@pytest.mark.parametrize("bad", ["not base64!", "", "   ", "abc"])
def test_a_secret_key_that_is_not_base64_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="secret key"):
        _signing.decode_secret_key(bad)


def test_body_hash() -> None:
    assert _signing.sha256_b64(TOKEN_BODY) == "bjV3lbLKhiyFkwrvq2m4wAgkfQPQnoHjtIHPLhIby5w="


def test_token_signature() -> None:
    target = _signing.token_target(TOKEN_BODY, DATE)
    assert target == (
        "POST\nbjV3lbLKhiyFkwrvq2m4wAgkfQPQnoHjtIHPLhIby5w=\n2026-11-28T05:00:00Z\n2.0\n"
        "/KAKAOCERT/Token"
    )
    assert _signing.hmac_b64(KEY, target) == "vjnM3AOURzwByWVZ5FTq1hSKXoIe06Lwv+rHgFWqRrE="


def test_token_signature_without_ip_restriction_signs_the_forwarded_line() -> None:
    target = _signing.token_target(TOKEN_BODY, DATE, forwarded="*")
    assert "\n*\n2.0\n" in target
    assert _signing.hmac_b64(KEY, target) == "Yviy3qhbL2eKvqKD79zDSK8WS3vo7EeShgiIE4gy0vA="


def test_request_signature_covers_the_exact_body() -> None:
    body = _wire.encode_request(make_request(), app_to_app=False)
    assert _signing.sha256_b64(body) == "x3Xp4S+StmjOtV2OVi8MV6twiEg3u11YR6NbF3OZ9go="
    target = _signing.request_target(body, DATE)
    assert target.endswith("\n2.0\n")  # no path line on the request target
    assert _signing.hmac_b64(KEY, target) == "zCZkNA/jGzbRJBhpr+0WHJL4C1mFlXNMfb0lO/mGaqk="


def test_token_body_is_what_the_known_answer_was_computed_over() -> None:
    grant_request = TokenRequest(access_id="020040000001", scope=SCOPE)
    assert _wire.dumps(_wire.converter.unstructure(grant_request)) == TOKEN_BODY
