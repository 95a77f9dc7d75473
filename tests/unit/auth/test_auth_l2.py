"""L2 HMAC signing against the official vectors (docs/polymarket-protocol.md#auth-l2)."""

from __future__ import annotations

import pytest

from polymarket_realtime.auth.l2 import ApiCredentials, build_hmac_signature, l2_headers, signed_path
from polymarket_realtime.errors import AuthError
from polymarket_realtime.secrets import Secret

SECRET = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_vector_with_body() -> None:
    sig = build_hmac_signature(SECRET, 1000000, "test-sign", "/orders", '{"hash": "0x123"}')
    assert sig == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="


def test_vector_without_body() -> None:
    assert (
        build_hmac_signature(SECRET, "1000000", "GET", "/data/orders") == "9-I3DmVY9ObJ6EVf_KvrHpUWMOQJXiAjR5z7fO8qnPw="
    )


def test_unpadded_secret_is_padded_and_bytes_body_equals_str_body() -> None:
    assert build_hmac_signature(SECRET.rstrip("="), 1000000, "GET", "/data/orders") == (
        "9-I3DmVY9ObJ6EVf_KvrHpUWMOQJXiAjR5z7fO8qnPw="
    )
    body = '{"a":"é"}'
    assert build_hmac_signature(SECRET, 1, "POST", "/x", body) == build_hmac_signature(
        SECRET, 1, "POST", "/x", body.encode("utf-8")
    )


def test_query_string_and_host_are_not_signed() -> None:
    assert signed_path("https://clob.polymarket.com/data/orders?next_cursor=MA==") == "/data/orders"
    assert signed_path("/data/trades?market=0xabc") == "/data/trades"
    creds = ApiCredentials(Secret("key-123456"), Secret(SECRET), Secret("pass-123456"))
    headers = l2_headers(ADDRESS, creds, 1000000, "GET", "/data/orders?next_cursor=MA==")
    assert headers == {
        "POLY_ADDRESS": ADDRESS,
        "POLY_SIGNATURE": "9-I3DmVY9ObJ6EVf_KvrHpUWMOQJXiAjR5z7fO8qnPw=",
        "POLY_TIMESTAMP": "1000000",
        "POLY_API_KEY": "key-123456",
        "POLY_PASSPHRASE": "pass-123456",
    }


def test_bad_secret_is_an_auth_error_without_the_value() -> None:
    with pytest.raises(AuthError) as info:
        build_hmac_signature(Secret("not*base64*at*all!"), 1, "GET", "/x")
    assert "not*base64" not in str(info.value)


def test_credentials_repr_is_masked() -> None:
    creds = ApiCredentials(Secret("key-abcdef123"), Secret(SECRET), Secret("passphrase-xyz"))
    text = repr(creds)
    assert "key-abcdef123" not in text and "passphrase-xyz" not in text and SECRET not in text
    assert creds.user_channel_auth() == {"apiKey": "key-abcdef123", "secret": SECRET, "passphrase": "passphrase-xyz"}
