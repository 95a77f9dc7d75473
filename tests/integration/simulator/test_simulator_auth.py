"""Simulator authentication (L1 EIP-712, L2 HMAC) and the user channel, with raw clients."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import anyio
import httpx2
import pytest
import websockets
from eth_account import Account
from eth_account.messages import encode_typed_data
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from polymarket_realtime.config import Settings
from polymarket_realtime.simulator import CredentialStore, SimAccount, Simulator, SimulatorConfig, l2_signature

pytestmark = pytest.mark.anyio

ALICE = Account.from_key("0x" + "11" * 32)
MALLORY = Account.from_key("0x" + "22" * 32)
VECTOR_SECRET = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def _l1_headers(signer: Any, *, address: str | None = None, ts: int | None = None, nonce: int = 0) -> dict[str, str]:
    timestamp = str(int(time.time()) if ts is None else ts)
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "primaryType": "ClobAuth",
        "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": 137},
        "message": {
            "address": signer.address,
            "timestamp": timestamp,
            "nonce": nonce,
            "message": "This message attests that I control the given wallet",
        },
    }
    signature = Account.sign_message(encode_typed_data(full_message=data), signer.key).signature.hex()
    return {
        "POLY_ADDRESS": address or signer.address,
        "POLY_SIGNATURE": signature if signature.startswith("0x") else "0x" + signature,
        "POLY_TIMESTAMP": timestamp,
        "POLY_NONCE": str(nonce),
    }


def _l2_headers(
    creds: dict[str, str], address: str, method: str, path: str, *, ts: int | None = None
) -> dict[str, str]:
    timestamp = str(int(time.time()) if ts is None else ts)
    key = base64.urlsafe_b64decode(creds["secret"])
    digest = hmac.new(key, f"{timestamp}{method}{path}".encode(), hashlib.sha256).digest()
    return {
        "POLY_ADDRESS": address,
        "POLY_SIGNATURE": base64.urlsafe_b64encode(digest).decode(),
        "POLY_TIMESTAMP": timestamp,
        "POLY_API_KEY": creds["apiKey"],
        "POLY_PASSPHRASE": creds["passphrase"],
    }


async def _derive(client: httpx2.AsyncClient, signer: Any = ALICE) -> dict[str, str]:
    response = await client.get("/auth/derive-api-key", headers=_l1_headers(signer))
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def _recv_json(ws: ClientConnection) -> Any:
    with anyio.fail_after(5):
        return json.loads(await ws.recv())


async def _user_socket(sim: Simulator, creds: dict[str, str], markets: list[str]) -> ClientConnection:
    ws = await websockets.connect(sim.ws_url + "/user", max_queue=None)
    auth = {"apiKey": creds["apiKey"], "secret": creds["secret"], "passphrase": creds["passphrase"]}
    await ws.send(json.dumps({"type": "user", "auth": auth, "markets": markets}))
    return ws


def test_l2_signature_matches_spec_vectors() -> None:
    with_body = l2_signature(VECTOR_SECRET, "1000000", "test-sign", "/orders", '{"hash": "0x123"}')
    assert with_body == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="
    assert (
        l2_signature(VECTOR_SECRET, "1000000", "GET", "/data/orders") == "9-I3DmVY9ObJ6EVf_KvrHpUWMOQJXiAjR5z7fO8qnPw="
    )


def test_l1_spec_vector_recovers_the_signer() -> None:
    store = CredentialStore(seed=1, chain_id=80002, window_s=300, now_s=lambda: 10_000_000)
    headers = {
        "POLY_ADDRESS": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "POLY_SIGNATURE": "0xf62319a987514da40e57e2f4d7529f7bac38f0355bd88bb5adbb3768d80de6c1682518e0af677d5260366425"
        "f4361e7b70c25ae232aff0ab2331e2b164a1aedc1b",
        "POLY_TIMESTAMP": "10000000",
        "POLY_NONCE": "23",
    }
    assert store.verify_l1(headers) == ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 23)


async def test_l1_create_derive_and_rejections(simulator: Simulator) -> None:
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        created = await client.post("/auth/api-key", headers=_l1_headers(ALICE))
        assert created.status_code == 200
        creds = created.json()
        assert set(creds) == {"apiKey", "secret", "passphrase"} and len(creds["passphrase"]) == 64
        assert len(base64.urlsafe_b64decode(creds["secret"])) == 32
        again = await client.post("/auth/api-key", headers=_l1_headers(ALICE))
        assert again.status_code == 400 and "error" in again.json()  # already exists, like the venue
        assert await _derive(client) == creds
        other_nonce = await client.post("/auth/api-key", headers=_l1_headers(ALICE, nonce=1))
        assert other_nonce.status_code == 200 and other_nonce.json() != creds

        wrong_address = await client.get("/auth/derive-api-key", headers=_l1_headers(MALLORY, address=ALICE.address))
        assert wrong_address.status_code == 401 and "error" in wrong_address.json()
        garbage = {**_l1_headers(ALICE), "POLY_SIGNATURE": "0x" + "ab" * 65}
        assert (await client.get("/auth/derive-api-key", headers=garbage)).status_code == 401
        skewed = await client.get("/auth/derive-api-key", headers=_l1_headers(ALICE, ts=int(time.time()) - 1000))
        assert skewed.status_code == 401 and "timestamp" in skewed.json()["error"].lower()
        missing = await client.get("/auth/derive-api-key")
        assert missing.status_code == 401


async def test_l2_data_endpoints_verify_hmac(simulator: Simulator) -> None:
    market = simulator.model.markets[0].condition_id
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        creds = await _derive(client)
        good = _l2_headers(creds, ALICE.address, "GET", "/data/orders")
        ok = await client.get("/data/orders", params={"market": market}, headers=good)  # query is not signed
        assert ok.status_code == 200
        assert ok.json() == {"data": [], "next_cursor": "LTE=", "limit": 100, "count": 0}  # limit = page size
        bad_hmac = {
            **good,
            "POLY_SIGNATURE": _l2_headers(creds, ALICE.address, "GET", "/data/trades")["POLY_SIGNATURE"],
        }
        assert (await client.get("/data/orders", headers=bad_hmac)).status_code == 401
        stale = _l2_headers(creds, ALICE.address, "GET", "/data/orders", ts=int(time.time()) - 1000)
        assert (await client.get("/data/orders", headers=stale)).status_code == 401
        wrong_pass = {**good, "POLY_PASSPHRASE": "0" * 64}
        assert (await client.get("/data/orders", headers=wrong_pass)).status_code == 401
        wrong_owner = {**good, "POLY_ADDRESS": MALLORY.address}
        assert (await client.get("/data/orders", headers=wrong_owner)).status_code == 401
        keys = await client.get("/auth/api-keys", headers=_l2_headers(creds, ALICE.address, "GET", "/auth/api-keys"))
        assert keys.json() == {"apiKeys": [creds["apiKey"]]}


async def test_user_channel_order_and_trade_lifecycle(simulator: Simulator) -> None:
    market = simulator.model.markets[1].condition_id
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        creds = await _derive(client)
        ws = await _user_socket(simulator, creds, [market])
        try:
            await ws.send("PING")
            with anyio.fail_after(5):
                assert await ws.recv() == "PONG"
            started = (await client.post("/_sim/user/trade", json={"market": market})).json()
            assert started["ok"] and len(started["trade_ids"]) == 1
            events = []
            while not events or events[-1].get("status") not in ("CONFIRMED", "FAILED"):
                events.append(await _recv_json(ws))
        finally:
            await ws.close()
        orders = [e for e in events if e["event_type"] == "order"]
        trades = [e for e in events if e["event_type"] == "trade"]
        assert [o["type"] for o in orders] == ["PLACEMENT", "UPDATE"]
        assert orders[1]["size_matched"] != "0" and orders[0]["owner"] == creds["apiKey"]
        statuses = [t["status"] for t in trades]
        assert statuses[0] == "MATCHED" and statuses[-1] in ("CONFIRMED", "FAILED")
        assert {t["id"] for t in trades} == set(started["trade_ids"])
        assert all(e["market"] == market for e in events)
        assert len(orders[0]["created_at"]) == 10 and len(orders[0]["timestamp"]) == 13  # seconds vs ms
        assert len(trades[0]["match_time"]) == 10 and trades[0]["type"] == "TRADE"

        path_headers = _l2_headers(creds, ALICE.address, "GET", "/data/trades")
        listed = (await client.get("/data/trades", params={"market": market}, headers=path_headers)).json()
        assert listed["data"][0]["status"] == f"TRADE_STATUS_{statuses[-1]}"
        open_orders = await client.get("/data/orders", headers=_l2_headers(creds, ALICE.address, "GET", "/data/orders"))
        assert [o["id"] for o in open_orders.json()["data"]] == [orders[0]["id"]]


async def test_user_channel_filters_markets_and_supports_operations(simulator: Simulator) -> None:
    m0, m1 = (m.condition_id for m in simulator.model.markets[:2])
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        creds = await _derive(client)
        ws = await _user_socket(simulator, creds, [m0])
        try:
            await ws.send(json.dumps({"operation": "subscribe", "markets": [m1]}))
            await ws.send(json.dumps({"operation": "unsubscribe", "markets": [m0]}))
            conn = simulator.observed.last("/ws/user")
            assert conn is not None
            await simulator.wait_until(lambda: conn.markets == {m1})
            simulator.user.start(creds["apiKey"], ALICE.address, market=m0)  # filtered out
            simulator.user.start(creds["apiKey"], ALICE.address, market=m1)
            first = await _recv_json(ws)
            assert first["market"] == m1 and first["type"] == "PLACEMENT"
        finally:
            await ws.close()


async def test_bad_credentials_abort_the_user_socket(simulator: Simulator) -> None:
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        creds = await _derive(client)
    ws = await _user_socket(simulator, {**creds, "secret": base64.urlsafe_b64encode(b"x" * 32).decode()}, [])
    with anyio.fail_after(5), pytest.raises(ConnectionClosed) as caught:
        await ws.recv()
    assert caught.value.rcvd is None  # reset without a close handshake, as the venue does


async def test_revoke_invalidates_credentials_until_rederived(simulator: Simulator) -> None:
    async with httpx2.AsyncClient(base_url=simulator.rest_url) as client:
        creds = await _derive(client)
        assert (await client.post("/_sim/auth/revoke")).json() == {"ok": True, "revoked": 1}
        headers = _l2_headers(creds, ALICE.address, "GET", "/data/orders")
        assert (await client.get("/data/orders", headers=headers)).status_code == 401
        assert simulator.credentials.check_ws_auth(creds["apiKey"], creds["secret"], creds["passphrase"]) is None
        fresh = await _derive(client)
        assert fresh != creds
        headers = _l2_headers(fresh, ALICE.address, "GET", "/data/orders")
        assert (await client.get("/data/orders", headers=headers)).status_code == 200


async def test_configured_account_gets_automatic_lifecycles() -> None:
    config = SimulatorConfig(
        markets=2, rate_per_s=0, rtds_rate_per_s=0, account=SimAccount(address=ALICE.address, lifecycle_every_s=0.1)
    )
    async with Simulator(config) as sim, httpx2.AsyncClient(base_url=sim.rest_url) as client:
        creds = await _derive(client)
        ws = await _user_socket(sim, creds, [])
        try:
            first = await _recv_json(ws)
        finally:
            await ws.close()
    assert first["event_type"] == "order" and first["type"] == "PLACEMENT" and first["maker_address"] == ALICE.address


def test_sim_settings_point_at_the_simulator(simulator: Simulator, sim_settings: Settings) -> None:
    assert sim_settings.market_ws_url == simulator.ws_url + "/market"
    assert sim_settings.user_ws_url == simulator.ws_url + "/user"
    assert sim_settings.rtds_ws_url == simulator.rtds_url
    assert sim_settings.clob_url == sim_settings.gamma_url == simulator.rest_url
    assert sim_settings.ping_interval_s == 0.2 and sim_settings.pong_timeout_s == 1.0
