"""Production check (needs internet and POLYGON_PRIVATE_KEY): derive API credentials with L1, read the
account over L2 and open the authenticated user channel. Read-only: nothing is placed or cancelled."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import httpx2
import pytest
from websockets.asyncio.client import connect

from polymarket_realtime.config import Settings
from polymarket_realtime.venues.polymarket.credentials import CredentialManager
from polymarket_realtime.venues.polymarket.protocol import user_initial_frame
from polymarket_realtime.venues.polymarket.user_rest import UserRestClient

pytestmark = [
    pytest.mark.slow,
    pytest.mark.live,
    pytest.mark.anyio,
    pytest.mark.skipif(not os.environ.get("POLYGON_PRIVATE_KEY"), reason="POLYGON_PRIVATE_KEY is not set"),
]


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    # Production endpoints and the caller's credentials; derived credentials go to a temporary directory.
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLYMARKET_") or k.startswith("POLYMARKET_CHAIN")}
    env.update({"POLYMARKET_MCP_DATA_DIR": str(tmp_path), "POLYGON_PRIVATE_KEY": os.environ["POLYGON_PRIVATE_KEY"]})
    return Settings.from_env(env, env_file=Path(os.devnull))


async def test_derive_read_and_open_user_channel(live_settings: Settings) -> None:
    async with httpx2.AsyncClient(timeout=20.0) as http:
        manager = CredentialManager(live_settings, http=http)
        creds = await manager.get()
        assert manager.source == "derived" and manager.clock_offset_s is not None
        assert manager.file_path is not None and manager.file_path.is_file()
        orders = await UserRestClient(live_settings.clob_url, manager, http).get_open_orders()
        assert isinstance(orders, list)

    frame = user_initial_frame(creds.api_key.reveal(), creds.secret.reveal(), creds.passphrase.reveal(), [])
    with anyio.fail_after(30):
        async with connect(live_settings.user_ws_url, compression=None) as ws:
            await ws.send(frame)
            await ws.send("PING")
            # A rejected credential closes the socket abruptly instead of answering
            # (docs/polymarket-protocol.md#clob-ws-errors).
            while True:
                message = await ws.recv()
                if message == "PONG":
                    break
                json.loads(message)  # any event must at least be JSON
