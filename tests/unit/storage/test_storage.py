"""Storage: migrations, pragmas, transactions roll back wholly, decimals stay exact TEXT."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from pathlib import Path

import pytest

from polymarket_realtime.errors import StorageError
from polymarket_realtime.model.agent_records import AgentRecord
from polymarket_realtime.model.paper_records import PositionRecord, SessionRecord
from polymarket_realtime.storage import activity as activity_db, agents as agents_db, sessions as sessions_db
from polymarket_realtime.storage.db import Database
from polymarket_realtime.storage.schema import SCHEMA_VERSION


def _session(sid: str = "ps-1") -> SessionRecord:
    return SessionRecord(
        id=sid,
        name="n",
        state="running",
        state_reason="",
        starting_cash=D("1000"),
        cash=D("999.123456789"),
        realized_pnl=D("0"),
        fees_paid=D("0"),
        fee_bps=None,
        risk={},
        token_ids=["1"],
        market_ids=[],
        peak_equity=D("1000"),
        day="2026-11-23",
        day_start_equity=D("1000"),
        created_ns=1,
        updated_ns=1,
    )


def test_migrations_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION
        assert db.read_sync(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
        assert db.read_sync(lambda c: c.execute("PRAGMA foreign_keys").fetchone()[0]) == 1
    with Database(path) as db:  # re-open: no re-migration
        assert db.schema_version == SCHEMA_VERSION


def test_decimal_round_trip_and_rollback(tmp_path: Path) -> None:
    with Database(tmp_path / "s.sqlite3") as db:
        db.write_sync(lambda c: sessions_db.insert_session(c, _session()))

        def half_then_fail(conn: sqlite3.Connection) -> None:
            rec = _session()
            rec.cash = D("1")
            sessions_db.update_session(conn, rec)
            sessions_db.insert_session(conn, _session())  # duplicate primary key -> whole transaction rolls back

        with pytest.raises(StorageError, match="nothing was changed"):
            db.write_sync(half_then_fail)
        (loaded,) = db.read_sync(sessions_db.load_sessions)
        assert loaded.cash == D("999.123456789")
        assert db.read_sync(lambda c: c.execute("SELECT typeof(cash) FROM sessions").fetchone()[0]) == "text"


def test_foreign_keys_enforced(tmp_path: Path) -> None:
    with Database(tmp_path / "s.sqlite3") as db, pytest.raises(StorageError):
        db.write_sync(
            lambda c: sessions_db.upsert_position(c, "missing", PositionRecord("1", D(1), D("0.5"), D(0), D("0.5")))
        )


def test_activity_cursor_and_logs(tmp_path: Path) -> None:
    with Database(tmp_path / "s.sqlite3") as db:
        for i in range(5):
            db.write_sync(lambda c, i=i: activity_db.insert_activity(c, i, "k", "s", f"m{i}"))
        entries, last = db.read_sync(lambda c: activity_db.read_activity(c, 2, 2))
        assert [e.seq for e in entries] == [3, 4] and last == 5
        agent = AgentRecord("ag-1", "price_alert", {"x": 1}, None, "running", "")
        db.write_sync(lambda c: agents_db.insert_agent(c, agent))
        for level, msg in [("info", "hello"), ("error", "Boom"), ("info", "bye")]:
            db.write_sync(lambda c, level=level, msg=msg: agents_db.insert_agent_log(c, "ag-1", 0, level, msg))
        logs = db.read_sync(lambda c: agents_db.read_agent_logs(c, "ag-1", lines=2, level=None, contains=None))
        assert [r.message for r in logs] == ["Boom", "bye"]
        errs = db.read_sync(lambda c: agents_db.read_agent_logs(c, "ag-1", lines=10, level="error", contains="boom"))
        assert [r.message for r in errs] == ["Boom"]


def test_health_probe(tmp_path: Path) -> None:
    import anyio

    async def main() -> dict[str, object]:
        with Database(tmp_path / "s.sqlite3") as db:
            return await db.health()

    health = anyio.run(main)
    assert health["ok"] is True and health["quick_check"] == "ok"


def test_upgrade_from_schema_1_keeps_positions(tmp_path: Path) -> None:
    from polymarket_realtime.storage.schema import MIGRATIONS

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    rec = _session()
    conn.execute(
        "INSERT INTO sessions(id, name, state, starting_cash, cash, peak_equity, day, day_start_equity, created_ns, "
        "updated_ns) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (rec.id, rec.name, rec.state, "1000", "990", "1000", rec.day, "1000", 1, 1),
    )
    conn.execute(
        "INSERT INTO positions(session_id, token_id, size, average_price, realized_pnl) VALUES (?,?,?,?,?)",
        (rec.id, "1", "20", "0.5", "0"),
    )
    conn.commit()
    conn.close()
    with Database(path) as db:
        assert db.schema_version == SCHEMA_VERSION == 4
        (pos,) = db.read_sync(lambda c: sessions_db.load_positions(c, rec.id))
        assert pos.cost == D("10.0") and pos.size == D("20")
        (loaded,) = db.read_sync(sessions_db.load_sessions)
        assert loaded.fee_schedules == {}  # schema 3 default: no stored market schedule, fee_bps applies


def test_session_fee_schedules_roundtrip(tmp_path: Path) -> None:
    with Database(tmp_path / "s.sqlite3") as db:
        rec = _session()
        rec.fee_schedules = {"1": {"rate": "0.07", "exponent": "1", "taker_only": "True"}}
        db.write_sync(lambda c: sessions_db.insert_session(c, rec))
        (loaded,) = db.read_sync(sessions_db.load_sessions)
        assert loaded.fee_schedules == rec.fee_schedules
