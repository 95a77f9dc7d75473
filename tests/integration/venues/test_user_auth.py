"""Credentials against the simulator's real L1/L2 verification: derive, store (0600), reuse, 401 paths,
clock skew, wrong address, and the doctor checks."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from polymarket_realtime.config import Settings
from polymarket_realtime.diagnostics.doctor import diagnose
from polymarket_realtime.errors import AuthError
from polymarket_realtime.simulator import SimAccount, Simulator, SimulatorConfig
from polymarket_realtime.venues.polymarket.credentials import CredentialManager
from polymarket_realtime.venues.polymarket.user_rest import UserRestClient

pytestmark = pytest.mark.anyio

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _settings(sim: Simulator, data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({**sim.env(), "POLYMARKET_MCP_DATA_DIR": str(data_dir), **env}, env_file=Path(os.devnull))


@pytest.fixture
async def http(anyio_backend: str) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(timeout=10.0) as client:
        yield client


def _requests(sim: Simulator, key: str) -> int:
    return sim.observed.rest_requests[key]


async def test_derive_saves_0600_file_and_reuses_it(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    settings = _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY, POLYGON_ADDRESS=ADDRESS)
    first = CredentialManager(settings, http=http)
    creds = await first.get()
    assert first.source == "derived" and first.derivations == 1
    assert _requests(simulator, "POST /auth/api-key") == 1
    path = first.file_path
    assert path is not None and path.is_file() and path.parent.parent == tmp_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert creds.secret.reveal() in path.read_text()  # really stored, only readable by the user

    second = CredentialManager(settings, http=http)
    again = await second.get()
    assert second.source == "file" and second.derivations == 0 and again == creds
    assert _requests(simulator, "POST /auth/api-key") == 1  # no new derivation
    # The reused credentials authenticate.
    assert await UserRestClient(settings.clob_url, second, http).get_open_orders() == []


async def test_loose_file_permissions_are_tightened(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    settings = _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY)
    manager = CredentialManager(settings, http=http)
    await manager.get()
    assert manager.file_path is not None
    os.chmod(manager.file_path, 0o644)
    reused = CredentialManager(settings, http=http)
    await reused.get()
    assert reused.source == "file"
    assert stat.S_IMODE(manager.file_path.stat().st_mode) == 0o600


async def test_create_existing_key_falls_back_to_derive(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    settings = _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY)
    creds = await CredentialManager(settings, http=http).get()
    # A second machine (no saved file): POST answers 400 "already exists", GET derive returns the same key.
    other = CredentialManager(_settings(simulator, tmp_path / "other", POLYGON_PRIVATE_KEY=KEY), http=http)
    assert await other.get() == creds
    assert _requests(simulator, "POST /auth/api-key") == 2
    assert _requests(simulator, "GET /auth/derive-api-key") == 1


async def test_wrong_address_is_a_clear_error(simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient) -> None:
    settings = _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY, POLYGON_ADDRESS=OTHER_ADDRESS)
    with pytest.raises(AuthError) as info:
        CredentialManager(settings, http=http)
    message = str(info.value)
    assert "POLYGON_ADDRESS" in message and OTHER_ADDRESS in message and ADDRESS in message
    assert KEY[2:] not in message
    report = await diagnose(settings, http=http)
    check = report.get("private key / address")
    assert check.status == "fail" and "POLYGON_ADDRESS" in check.fix
    assert not report.ok


async def test_wrong_chain_id_fails_derivation_clearly(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    # The simulator verifies against chain 137: an Amoy signature recovers another signer (bad key).
    settings = _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY, POLYMARKET_CHAIN_ID="80002")
    with pytest.raises(AuthError) as info:
        await CredentialManager(settings, http=http).get()
    assert "refused to create or derive" in str(info.value) and "POLYMARKET_CHAIN_ID" in str(info.value)
    assert info.value.status == 401


async def test_no_credentials_error_names_the_variables(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    manager = CredentialManager(_settings(simulator, tmp_path), http=http)
    with pytest.raises(AuthError) as info:
        await manager.get()
    for name in ("POLYGON_PRIVATE_KEY", "POLYMARKET_API_KEY", "POLYMARKET_API_SECRET", "POLYMARKET_PASSPHRASE"):
        assert name in str(info.value)


async def test_env_trio_rejected_is_a_clear_error(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    settings = _settings(
        simulator,
        tmp_path,
        POLYGON_ADDRESS=ADDRESS,
        POLYMARKET_API_KEY="11111111-2222-4333-8444-555555555555",
        POLYMARKET_API_SECRET="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        POLYMARKET_PASSPHRASE="not-the-passphrase",
    )
    manager = CredentialManager(settings, http=http)
    with pytest.raises(AuthError) as info:
        await UserRestClient(settings.clob_url, manager, http).get_open_orders()
    assert info.value.status == 401 and "Builder keys" in str(info.value)
    assert manager.source == "env"


async def test_revoked_credentials_are_rederived_once(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    settings = _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY)
    manager = CredentialManager(settings, http=http)
    rest = UserRestClient(settings.clob_url, manager, http)
    before = await manager.get()
    await rest.get_open_orders()
    revoked = await http.post(settings.clob_url + "/_sim/auth/revoke")
    assert revoked.json()["revoked"] >= 1
    assert await rest.get_trades() == []  # 401 -> re-derive -> retry succeeds
    assert manager.derivations == 2 and rest.rederivations == 1
    after = await manager.get()
    assert after != before
    # The saved file now holds the new credentials.
    reused = CredentialManager(settings, http=http)
    assert await reused.get() == after and reused.source == "file"


async def test_second_401_after_rederive_raises_auth_error(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    settings = _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY)
    data_requests = 0

    async def revoke_before_each_data_request(request: httpx2.Request) -> None:
        # Revoked before the first try *and* before the retry with re-derived credentials.
        nonlocal data_requests
        if request.url.path == "/data/orders":
            data_requests += 1
            simulator.credentials.revoke_all()

    async with httpx2.AsyncClient(timeout=10.0, event_hooks={"request": [revoke_before_each_data_request]}) as hooked:
        manager = CredentialManager(settings, http=hooked)
        rest = UserRestClient(settings.clob_url, manager, hooked)
        with pytest.raises(AuthError) as info:
            await rest.get_open_orders()
    assert data_requests == 2 and manager.derivations == 2  # exactly one re-derivation, then give up
    assert "rejected" in str(info.value) and "even after re-deriving" in str(info.value)
    assert info.value.status == 401


async def test_skewed_clock_still_authenticates_and_doctor_reports_it(tmp_path: Path) -> None:
    config = SimulatorConfig(
        seed=5,
        markets=2,
        rate_per_s=5.0,
        resolve_after_s=None,
        time_offset_s=-3600.0,
        auth_window_s=30.0,
        account=SimAccount(lifecycle_every_s=None),
    )
    async with Simulator(config) as sim, httpx2.AsyncClient(timeout=10.0) as http:
        settings = _settings(sim, tmp_path, POLYGON_PRIVATE_KEY=KEY)
        manager = CredentialManager(settings, http=http)
        await manager.get()  # L1 timestamp from GET /time: accepted despite an hour of skew
        assert manager.clock_offset_s is not None and abs(manager.clock_offset_s + 3600) < 2
        assert await UserRestClient(settings.clob_url, manager, http).get_open_orders() == []

        report = await diagnose(settings, credentials=manager, http=http)
        skew = report.get("clock skew")
        assert skew.status == "warn" and "ahead of the server" in skew.detail and "NTP" in skew.fix
        assert report.clock_skew_s is not None and abs(report.clock_skew_s + 3600) < 2
        assert report.get("API credentials").status == "ok"
        assert report.ok  # a warning, not a failure


async def test_doctor_all_ok_and_without_credentials(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    report = await diagnose(_settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY), http=http)
    statuses: dict[str, Any] = {c.name: c.status for c in report.checks}
    assert statuses == {
        "CLOB REST": "ok",
        "clock skew": "ok",
        "Gamma API": "ok",
        "private key / address": "ok",
        "API credentials": "ok",
        "market socket": "ok",
        "user socket": "ok",
        "RTDS socket": "ok",
        "PolyBolt socket": "ok",
        "sports socket": "ok",
        "signature type / funder": "ok",
        "chain id": "ok",
    }
    assert report.address == ADDRESS and report.ok

    bare = await diagnose(_settings(simulator, tmp_path / "bare", POLYMARKET_SIGNATURE_TYPE="2"), http=http)
    assert bare.get("API credentials").status == "skip" and "POLYGON_PRIVATE_KEY" in bare.get("API credentials").fix
    assert bare.get("user socket").status == "skip"
    assert bare.get("PolyBolt socket").status == "skip" and "POLYGON_PRIVATE_KEY" in bare.get("PolyBolt socket").fix
    wallet = bare.get("signature type / funder")
    assert wallet.status == "warn" and "POLYMARKET_FUNDER" in wallet.fix


async def test_doctor_reports_unreachable_endpoints(tmp_path: Path) -> None:
    # Nothing listens on these ports (bound and closed by the OS a moment ago is not guaranteed; port 9 is discard).
    settings = Settings.from_env(
        {
            "POLYMARKET_CLOB_URL": "http://127.0.0.1:9",
            "POLYMARKET_GAMMA_URL": "http://127.0.0.1:9",
            "POLYMARKET_CLOB_WS_URL": "ws://127.0.0.1:9/ws",
            "POLYMARKET_RTDS_WS_URL": "ws://127.0.0.1:9",
            "POLYMARKET_POLYBOLT_WS_URL": "ws://127.0.0.1:9/ws",
            "POLYMARKET_SPORTS_WS_URL": "ws://127.0.0.1:9/ws",
            "POLYMARKET_MCP_DATA_DIR": str(tmp_path),
        },
        env_file=Path(os.devnull),
    )
    report = await diagnose(settings, timeout_s=2.0)
    for name in ("CLOB REST", "Gamma API", "market socket", "user socket", "RTDS socket", "PolyBolt socket"):
        check = report.get(name)
        assert check.status == "fail", name
        assert check.fix, name
    assert report.get("clock skew").status == "skip" and not report.ok
    sports = report.get("sports socket")
    assert sports.status == "warn" and "POLYMARKET_SPORTS_WS_URL" in sports.fix


def test_doctor_cli_json_exit_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from polymarket_realtime.cli import main

    for name, value in {
        "POLYMARKET_CLOB_URL": "http://127.0.0.1:9",
        "POLYMARKET_GAMMA_URL": "http://127.0.0.1:9",
        "POLYMARKET_CLOB_WS_URL": "ws://127.0.0.1:9/ws",
        "POLYMARKET_RTDS_WS_URL": "ws://127.0.0.1:9",
        "POLYMARKET_MCP_DATA_DIR": str(tmp_path),
        "POLYMARKET_MCP_ENV_FILE": os.devnull,
        "POLYGON_PRIVATE_KEY": KEY,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("POLYGON_ADDRESS", "POLYMARKET_API_KEY", "POLYMARKET_API_SECRET", "POLYMARKET_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["doctor", "--json", "--timeout", "2"]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["ok"] is False and report["address"] == ADDRESS
    by_name = {c["name"]: c for c in report["checks"]}
    assert by_name["CLOB REST"]["status"] == "fail" and by_name["CLOB REST"]["fix"]
    assert by_name["private key / address"]["status"] == "ok"
    assert KEY[2:] not in out and KEY[2:] not in err


async def test_doctor_credentials_fix_matches_the_cause(
    simulator: Simulator, tmp_path: Path, http: httpx2.AsyncClient
) -> None:
    # Wrong chain id, no trio set: the advice is about the chain, not about unsetting a trio.
    report = await diagnose(
        _settings(simulator, tmp_path, POLYGON_PRIVATE_KEY=KEY, POLYMARKET_CHAIN_ID="80002"), http=http
    )
    check = report.get("API credentials")
    assert check.status == "fail" and "POLYMARKET_CHAIN_ID (80002)" in check.fix
    assert "Unset the POLYMARKET_API_*" not in check.fix

    # A trio without POLYGON_ADDRESS (and no key): the REST check needs the address.
    trio = {
        "POLYMARKET_API_KEY": "11111111-2222-4333-8444-555555555555",
        "POLYMARKET_API_SECRET": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "POLYMARKET_PASSPHRASE": "not-the-passphrase",
    }
    check = (await diagnose(_settings(simulator, tmp_path / "t", **trio), http=http)).get("API credentials")
    assert check.status == "fail" and "Set POLYGON_ADDRESS" in check.fix

    # The same trio with the address: rejected by the venue, so the trio is the thing to change.
    with_address = _settings(simulator, tmp_path / "a", POLYGON_ADDRESS=ADDRESS, **trio)
    check = (await diagnose(with_address, http=http)).get("API credentials")
    assert check.status == "fail" and "Unset the POLYMARKET_API_* trio" in check.fix and "Builder" in check.fix

    # Derived credentials the venue rejects even after re-deriving: chain id, then the saved file.
    settings = _settings(simulator, tmp_path / "d", POLYGON_PRIVATE_KEY=KEY)

    async def revoke_before_data_requests(request: httpx2.Request) -> None:
        if request.url.path == "/data/orders":
            simulator.credentials.revoke_all()

    async with httpx2.AsyncClient(timeout=10.0, event_hooks={"request": [revoke_before_data_requests]}) as hooked:
        manager = CredentialManager(settings, http=hooked)
        check = (await diagnose(settings, credentials=manager, http=hooked)).get("API credentials")
    assert check.status == "fail" and "POLYMARKET_CHAIN_ID (137)" in check.fix
    assert manager.file_path is not None and f"delete {manager.file_path}" in check.fix
