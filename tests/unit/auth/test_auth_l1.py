"""L1 ``ClobAuth`` signing against the official vector (docs/polymarket-protocol.md#auth-l1)."""

from __future__ import annotations

import pytest

from polymarket_realtime.auth.l1 import (
    CLOB_AUTH_MESSAGE,
    L1Signer,
    clob_auth_typed_data,
    l1_headers,
    recover_clob_auth_signer,
)
from polymarket_realtime.errors import AuthError
from polymarket_realtime.secrets import Secret

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
VECTOR = (
    "0xf62319a987514da40e57e2f4d7529f7bac38f0355bd88bb5adbb3768d80de6c1"
    "682518e0af677d5260366425f4361e7b70c25ae232aff0ab2331e2b164a1aedc1b"
)


def test_official_vector() -> None:
    signer = L1Signer(Secret(KEY), 80002)
    assert signer.address == ADDRESS
    assert signer.sign_clob_auth("10000000", 23) == VECTOR
    # An int timestamp is rendered as the same decimal string.
    assert signer.sign_clob_auth(10000000, 23) == VECTOR


def test_chain_id_and_nonce_change_the_signature() -> None:
    assert L1Signer(Secret(KEY), 137).sign_clob_auth("10000000", 23) != VECTOR
    assert L1Signer(Secret(KEY), 80002).sign_clob_auth("10000000", 0) != VECTOR


def test_headers_carry_the_signed_values() -> None:
    signer = L1Signer(Secret(KEY), 80002)
    headers = l1_headers(signer, 10000000, 23)
    assert headers == {
        "POLY_ADDRESS": ADDRESS,
        "POLY_SIGNATURE": VECTOR,
        "POLY_TIMESTAMP": "10000000",
        "POLY_NONCE": "23",
    }
    assert recover_clob_auth_signer(VECTOR, ADDRESS, "10000000", 23, 80002) == ADDRESS


def test_domain_has_no_verifying_contract_or_salt() -> None:
    doc = clob_auth_typed_data(ADDRESS, 1, 0, 137)
    assert doc["domain"] == {"name": "ClobAuthDomain", "version": "1", "chainId": 137}
    assert doc["message"]["message"] == CLOB_AUTH_MESSAGE == "This message attests that I control the given wallet"
    assert [f["type"] for f in doc["types"]["ClobAuth"]] == ["address", "string", "uint256", "string"]


def test_invalid_key_error_does_not_echo_it() -> None:
    bad = "0x" + "0" * 64  # zero is not a valid secp256k1 key
    with pytest.raises(AuthError) as info:
        L1Signer(Secret(bad), 137)
    assert bad not in str(info.value) and "POLYGON_PRIVATE_KEY" in str(info.value)


def test_repr_hides_the_key() -> None:
    signer = L1Signer(Secret(KEY), 137)
    assert KEY[2:] not in repr(signer) and ADDRESS in repr(signer)
