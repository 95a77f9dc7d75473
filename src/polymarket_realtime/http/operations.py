"""The JSON API's operations: each is named after the MCP tool it mirrors, with the same arguments, checks and result.

An :class:`Operation` pairs an argument model (the tool's parameters, same names, types and defaults, so
pydantic reports the same per-field errors) with a call into the application services. The services do
the work and the checks; nothing here knows MCP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from ..app.root import Application
from ..app.sessions import stop_paper_session
from ..app.validation import check_market_refs, check_token_id, check_token_ids, check_wait_s

__all__ = ["OPERATIONS", "Operation"]


class _NoArgs(BaseModel):
    pass


class _Session(BaseModel):
    session_id: str


class _Agent(BaseModel):
    agent_id: str


class _CreateSession(BaseModel):
    name: str
    starting_cash: Decimal = Decimal(1000)
    token_ids: list[str] = []
    market_ids: list[str] = []
    risk: dict[str, Any] | None = None
    fee_bps: Decimal | None = None


class _PlaceOrder(BaseModel):
    session_id: str
    token_id: str
    side: Literal["BUY", "SELL"]
    size: Decimal
    order_type: Literal["market", "limit"] = "market"
    limit_price: Decimal | None = None


class _CancelOrder(BaseModel):
    session_id: str
    order_id: str


class _StartAgent(BaseModel):
    kind: Literal["price_alert", "market_scanner", "strategy"]
    config: dict[str, Any]
    session_id: str | None = None


class _AgentLogs(BaseModel):
    agent_id: str
    lines: int = 100
    level: Literal["debug", "info", "warning", "error"] | None = None
    contains: str | None = None


class _SavePreset(BaseModel):
    name: str
    weights: dict[str, float]


class _Preset(BaseModel):
    name: str


class _Activity(BaseModel):
    after_seq: int = 0
    limit: int = 100
    wait_s: float = 0


class _Search(BaseModel):
    query: str
    limit: int = 10
    active_only: bool = True


class _Book(BaseModel):
    token_id: str
    depth: int = 10


@dataclass(frozen=True)
class Operation:
    args: type[BaseModel]
    run: Callable[[Application, Any], Awaitable[BaseModel]]


async def _create_session(app: Application, a: _CreateSession) -> BaseModel:
    tokens = check_token_ids(a.token_ids)
    markets = check_market_refs(a.market_ids)
    return await app.require_paper().create_session(
        a.name, starting_cash=a.starting_cash, token_ids=tokens, market_ids=markets, risk=a.risk, fee_bps=a.fee_bps
    )


async def _stop_session(app: Application, a: _Session) -> BaseModel:
    return await stop_paper_session(app, a.session_id)


async def _place_order(app: Application, a: _PlaceOrder) -> BaseModel:
    token = check_token_id(a.token_id)
    return await app.require_paper().place_order(a.session_id, token, a.side, a.size, a.order_type, a.limit_price)


async def _list_sessions(app: Application, _a: _NoArgs) -> BaseModel:
    return app.require_paper().list_sessions()


async def _get_session(app: Application, a: _Session) -> BaseModel:
    return await app.require_paper().get_session(a.session_id)


async def _pause_session(app: Application, a: _Session) -> BaseModel:
    return await app.require_paper().pause(a.session_id)


async def _resume_session(app: Application, a: _Session) -> BaseModel:
    return await app.require_paper().resume(a.session_id)


async def _pause_all(app: Application, _a: _NoArgs) -> BaseModel:
    return await app.require_paper().pause_all()


async def _resume_all(app: Application, _a: _NoArgs) -> BaseModel:
    return await app.require_paper().resume_all()


async def _cancel_order(app: Application, a: _CancelOrder) -> BaseModel:
    return await app.require_paper().cancel_order(a.session_id, a.order_id)


async def _list_agents(app: Application, _a: _NoArgs) -> BaseModel:
    return app.require_agents().list_agents()


async def _start_agent(app: Application, a: _StartAgent) -> BaseModel:
    return await app.require_agents().start_agent(a.kind, a.config, a.session_id)  # checks the master switch


async def _get_agent(app: Application, a: _Agent) -> BaseModel:
    return app.require_agents().view(a.agent_id)


async def _stop_agent(app: Application, a: _Agent) -> BaseModel:
    return await app.require_agents().stop_agent(a.agent_id)


async def _agent_logs(app: Application, a: _AgentLogs) -> BaseModel:
    return await app.require_agents().logs(a.agent_id, a.lines, a.level, a.contains)


async def _list_presets(app: Application, _a: _NoArgs) -> BaseModel:
    return app.require_agents().list_presets()


async def _save_preset(app: Application, a: _SavePreset) -> BaseModel:
    return await app.require_agents().save_preset(a.name, a.weights)


async def _delete_preset(app: Application, a: _Preset) -> BaseModel:
    return await app.require_agents().delete_preset(a.name)


async def _system_status(app: Application, _a: _NoArgs) -> BaseModel:
    return await app.require_system().status()


async def _start_system(app: Application, _a: _NoArgs) -> BaseModel:
    return await app.require_system().start_system()


async def _stop_system(app: Application, _a: _NoArgs) -> BaseModel:
    return await app.require_system().stop_system()


async def _activity(app: Application, a: _Activity) -> BaseModel:
    return await app.require_system().read_activity(a.after_seq, a.limit, wait_s=check_wait_s(a.wait_s))


async def _search(app: Application, a: _Search) -> BaseModel:
    return await app.market.search(a.query, limit=a.limit, active_only=a.active_only)


async def _book(app: Application, a: _Book) -> BaseModel:
    return await app.market.order_book(a.token_id, a.depth)


OPERATIONS: dict[str, Operation] = {
    "create_paper_session": Operation(_CreateSession, _create_session),
    "list_paper_sessions": Operation(_NoArgs, _list_sessions),
    "get_paper_session": Operation(_Session, _get_session),
    "pause_paper_session": Operation(_Session, _pause_session),
    "resume_paper_session": Operation(_Session, _resume_session),
    "stop_paper_session": Operation(_Session, _stop_session),
    "pause_all_sessions": Operation(_NoArgs, _pause_all),
    "resume_all_sessions": Operation(_NoArgs, _resume_all),
    "place_paper_order": Operation(_PlaceOrder, _place_order),
    "cancel_paper_order": Operation(_CancelOrder, _cancel_order),
    "list_agents": Operation(_NoArgs, _list_agents),
    "start_agent": Operation(_StartAgent, _start_agent),
    "get_agent": Operation(_Agent, _get_agent),
    "stop_agent": Operation(_Agent, _stop_agent),
    "get_agent_logs": Operation(_AgentLogs, _agent_logs),
    "list_scanner_presets": Operation(_NoArgs, _list_presets),
    "save_scanner_preset": Operation(_SavePreset, _save_preset),
    "delete_scanner_preset": Operation(_Preset, _delete_preset),
    "get_system_status": Operation(_NoArgs, _system_status),
    "start_system": Operation(_NoArgs, _start_system),
    "stop_system": Operation(_NoArgs, _stop_system),
    "get_activity": Operation(_Activity, _activity),
    "search_markets": Operation(_Search, _search),
    "get_order_book": Operation(_Book, _book),
}
"""Every operation the JSON API routes use, by the name of the MCP tool it mirrors."""
