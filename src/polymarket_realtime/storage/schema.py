"""DDL as numbered migrations, tracked with ``PRAGMA user_version``. Nothing else lives here.

Money, prices and sizes are ``TEXT`` holding a Decimal string (never REAL). Times are integer
nanoseconds since the epoch. Append a migration to change the schema; never edit a shipped one.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: paper sessions, orders, fills, positions, snapshots, agents, logs, presets, activity, system.
    """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'halted', 'stopped')),
        state_reason TEXT NOT NULL DEFAULT '',
        starting_cash TEXT NOT NULL,
        cash TEXT NOT NULL,
        realized_pnl TEXT NOT NULL DEFAULT '0',
        fees_paid TEXT NOT NULL DEFAULT '0',
        fee_bps TEXT,
        risk_json TEXT NOT NULL DEFAULT '{}',
        token_ids_json TEXT NOT NULL DEFAULT '[]',
        market_ids_json TEXT NOT NULL DEFAULT '[]',
        peak_equity TEXT NOT NULL,
        day TEXT NOT NULL,
        day_start_equity TEXT NOT NULL,
        created_ns INTEGER NOT NULL,
        updated_ns INTEGER NOT NULL
    );
    CREATE TABLE positions (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        token_id TEXT NOT NULL,
        size TEXT NOT NULL,
        average_price TEXT NOT NULL,
        realized_pnl TEXT NOT NULL,
        PRIMARY KEY (session_id, token_id)
    );
    CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        token_id TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
        order_type TEXT NOT NULL CHECK (order_type IN ('market', 'limit')),
        size TEXT NOT NULL,
        limit_price TEXT,
        filled TEXT NOT NULL DEFAULT '0',
        notional TEXT NOT NULL DEFAULT '0',
        fees TEXT NOT NULL DEFAULT '0',
        fill_count INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL CHECK (status IN ('open', 'filled', 'partially_filled', 'cancelled')),
        reason TEXT NOT NULL DEFAULT '',
        created_ns INTEGER NOT NULL,
        updated_ns INTEGER NOT NULL
    );
    CREATE INDEX orders_open ON orders(session_id, status);
    CREATE TABLE fills (
        id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders(id),
        session_id TEXT NOT NULL REFERENCES sessions(id),
        token_id TEXT NOT NULL,
        side TEXT NOT NULL,
        price TEXT NOT NULL,
        size TEXT NOT NULL,
        fee TEXT NOT NULL,
        liquidity TEXT NOT NULL,
        ts_ns INTEGER NOT NULL
    );
    CREATE INDEX fills_session ON fills(session_id, ts_ns);
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        ts_ns INTEGER NOT NULL,
        cash TEXT NOT NULL,
        equity TEXT NOT NULL,
        positions_json TEXT NOT NULL
    );
    CREATE TABLE agents (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        config_json TEXT NOT NULL,
        session_id TEXT REFERENCES sessions(id),
        state TEXT NOT NULL CHECK (state IN ('running', 'stopped', 'error')),
        state_reason TEXT NOT NULL DEFAULT '',
        memory_json TEXT NOT NULL DEFAULT '{}',
        created_ns INTEGER NOT NULL,
        updated_ns INTEGER NOT NULL
    );
    CREATE TABLE agent_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        ts_ns INTEGER NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX agent_logs_agent ON agent_logs(agent_id, id);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        agent_id TEXT NOT NULL REFERENCES agents(id),
        ts_ns INTEGER NOT NULL,
        token_id TEXT NOT NULL,
        price TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE TABLE weight_presets (
        name TEXT PRIMARY KEY,
        weights_json TEXT NOT NULL,
        updated_ns INTEGER NOT NULL
    );
    CREATE TABLE activity (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ts_ns INTEGER NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        message TEXT NOT NULL,
        data_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE system_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: exact cost basis per position (the average price is derived from it). NULL in rows written by
    # schema 1 means "size * average_price", which the loader computes in Decimal.
    """
    ALTER TABLE positions ADD COLUMN cost TEXT;
    """,
    # 3: the market fee schedule per token, captured at session creation, so fees survive a restart even
    # when Gamma is unreachable then ({token_id: {rate, exponent, taker_only}}).
    """
    ALTER TABLE sessions ADD COLUMN fee_schedules_json TEXT NOT NULL DEFAULT '{}';
    """,
    # 4: indexes for retention (storage/retention.py): delete by age, and find each owner's oldest rows
    # beyond its count limit, without scanning the tables.
    """
    CREATE INDEX agent_logs_ts ON agent_logs(ts_ns);
    CREATE INDEX alerts_agent ON alerts(agent_id, id);
    CREATE INDEX alerts_ts ON alerts(ts_ns);
    CREATE INDEX activity_ts ON activity(ts_ns);
    CREATE INDEX activity_subject ON activity(subject, seq);
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)
