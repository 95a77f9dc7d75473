"""Byte-for-byte agreement with the official ``py_clob_client_v2`` (a dev extra, never used by src/)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from polymarket_realtime.auth.l1 import L1Signer
from polymarket_realtime.auth.l2 import ApiCredentials, l2_headers
from polymarket_realtime.secrets import Secret

official_headers = pytest.importorskip("py_clob_client_v2.headers.headers")
official_types = pytest.importorskip("py_clob_client_v2.clob_types")
official_signer = pytest.importorskip("py_clob_client_v2.signer")

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(lambda k: f"0x{k:064x}")
chains = st.sampled_from([137, 80002])
timestamps = st.integers(min_value=0, max_value=10**12)
nonces = st.integers(min_value=0, max_value=2**256 - 1)
secrets_ = st.binary(min_size=1, max_size=64).map(lambda b: base64.urlsafe_b64encode(b).decode())
paths = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/", min_size=0, max_size=40).map(lambda p: "/" + p)
methods = st.sampled_from(["GET", "POST", "DELETE", "PUT"])
# The official client rewrites ' to " in bodies (a dict-repr quirk); JSON never needs ', so exclude it.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
bodies = st.one_of(
    st.just(""),
    json_values.map(lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False)).filter(lambda s: "'" not in s),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(key=keys, chain_id=chains, timestamp=timestamps, nonce=nonces)
def test_l1_headers_match_official(key: str, chain_id: int, timestamp: int, nonce: int) -> None:
    ours = L1Signer(Secret(key), chain_id).headers(timestamp, nonce)
    theirs = official_headers.create_level_1_headers(
        official_signer.Signer(key, chain_id), nonce=nonce, timestamp=timestamp
    )
    assert ours == theirs


@SETTINGS
@given(
    secret=secrets_,
    timestamp=timestamps,
    method=methods,
    path=paths,
    body=bodies,
    api_key=st.uuids().map(str),
    passphrase=st.text(alphabet="0123456789abcdef", min_size=8, max_size=64),
)
def test_l2_headers_match_official(
    secret: str, timestamp: int, method: str, path: str, body: str, api_key: str, passphrase: str
) -> None:
    key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    signer = official_signer.Signer(key, 137)
    creds = ApiCredentials(Secret(api_key), Secret(secret), Secret(passphrase))
    ours = l2_headers(signer.address(), creds, timestamp, method, path, body.encode("utf-8"))
    theirs = official_headers.create_level_2_headers(
        signer,
        official_types.ApiCreds(api_key=api_key, api_secret=secret, api_passphrase=passphrase),
        official_types.RequestArgs(method=method, request_path=path, body=body or None, serialized_body=body or None),
        timestamp=timestamp,
    )
    assert ours == theirs
