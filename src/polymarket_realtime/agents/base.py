"""The Agent interface: a long-running component that consumes routed events from its own sink.

An agent is one small class: declare ``kind``, validate its config in :meth:`Agent.parse_config`, say
which tokens it needs (:meth:`Agent.token_ids`, subscribed for it while it runs) and react in
:meth:`Agent.on_event`. It talks to the world only through its :class:`AgentContext` (log, alert,
activity, paper orders), and keeps whatever must survive a restart in ``self.memory`` (persisted by the
service after each event that sets ``self.dirty``). An exception escaping ``on_event`` puts the agent in
the ``error`` state with the traceback in its log; it never reaches the server or other agents.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..clock import Clock
from ..errors import InvalidInputError
from ..model.book import BookReader
from ..model.events import BestBidAsk, BookSnapshot, Event, PriceChange
from ..model.names import closest_argument
from ..model.numbers import NotANumber, to_decimal

if TYPE_CHECKING:
    from ..paper.models import OrderResult

__all__ = [
    "Agent",
    "AgentContext",
    "check_keys",
    "config_bool",
    "config_decimal",
    "config_int",
    "config_str",
    "config_token",
    "mid_of",
    "top_of_book",
]


class AgentContext(Protocol):
    """What an agent may do. Every call is committed before it returns."""

    agent_id: str
    books: BookReader
    clock: Clock
    session_id: str | None

    async def log(self, level: str, message: str) -> None: ...
    async def alert(self, token_id: str, price: Decimal, message: str) -> None: ...
    async def activity(self, kind: str, message: str, data: dict[str, Any] | None = None) -> None: ...
    async def place_order(self, token_id: str, side: str, size: Decimal) -> OrderResult: ...
    def position(self, token_id: str) -> Decimal: ...


class Agent(ABC):
    kind: ClassVar[str]
    description: ClassVar[str]
    event_types: ClassVar[tuple[str, ...]] = ("book", "price_change", "last_trade_price", "best_bid_ask")
    needs_session: ClassVar[bool] = False

    def __init__(self, config: Mapping[str, Any], ctx: AgentContext, memory: dict[str, Any]) -> None:
        self.config = dict(config)
        self.ctx = ctx
        self.memory = memory
        self.dirty = False
        """Set when ``memory`` changed and should be persisted."""
        self.finished: str | None = None
        """Set to a reason when the agent has completed its job (it then stops itself)."""

    @classmethod
    @abstractmethod
    def parse_config(cls, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Validate and normalize ``raw``; :class:`InvalidInputError` names the bad key."""

    @abstractmethod
    def token_ids(self) -> list[str]:
        """Tokens to keep subscribed while running (empty = whatever is already subscribed)."""

    async def on_start(self) -> None:  # noqa: B027  # optional hook
        """Called once when the agent starts or is restored."""

    def on_warm(self) -> None:  # noqa: B027  # optional hook
        """Called once by ``start_agent`` after its bounded wait for live books (synchronous: no await)."""

    @abstractmethod
    async def on_event(self, event: Event) -> None: ...

    def stats(self) -> dict[str, Any]:
        """Kind-specific statistics for ``get_agent`` (JSON-ready)."""
        return {}


def top_of_book(event: Event, books: BookReader) -> tuple[Decimal | None, Decimal | None]:
    """Best bid and ask *as of this event* when the event carries them, else the live book's.

    Agents run behind the feed; reading only the shared book would skip intermediate prices.
    """
    if isinstance(event, BookSnapshot):
        if event.bids or event.asks:
            return (event.bids[0].price if event.bids else None, event.asks[0].price if event.asks else None)
        return None, None
    if isinstance(event, (PriceChange, BestBidAsk)) and event.best_bid is not None and event.best_ask is not None:
        return event.best_bid, event.best_ask
    book = books.get(getattr(event, "asset_id", ""))
    if book is None or book.stale:
        return None, None
    return book.best_bid(), book.best_ask()


def mid_of(event: Event, books: BookReader) -> Decimal | None:
    bid, ask = top_of_book(event, books)
    return None if bid is None or ask is None else (bid + ask) / 2


def check_keys(raw: Mapping[str, Any], valid: tuple[str, ...], where: str = "config", noun: str = "") -> None:
    """Refuse a key ``valid`` does not name, pointing at the closest valid one (a typo never passes silently)."""
    unknown = [str(k) for k in raw if k not in valid]
    if not unknown:
        return
    unused = [v for v in valid if v not in raw] or list(valid)
    parts = [f"{where}.{name} (did you mean {closest_argument(name, unused)!r}?)" for name in unknown]
    noun = noun or ("key" if len(unknown) == 1 else "keys")
    raise InvalidInputError(f"unknown {noun} {', '.join(parts)}. Valid {where} keys: {', '.join(valid)}.")


def config_str(
    raw: Mapping[str, Any], key: str, *, choices: tuple[str, ...] | None = None, default: str | None = None
) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            f"config.{key} is required (a string{'' if not choices else ': ' + '|'.join(choices)})."
        )
    value = value.strip()
    if choices is not None and value not in choices:
        raise InvalidInputError(f"config.{key} must be one of {', '.join(choices)}, not {value!r}.")
    return value


def config_token(raw: Mapping[str, Any], key: str = "token_id") -> str:
    token = config_str(raw, key)
    if not token.isdigit() or len(token) > 80:
        raise InvalidInputError(
            f"config.{key} {token[:80]!r} is not a token id (a decimal string); use get_market to list outcome tokens."
        )
    return token


def config_decimal(
    raw: Mapping[str, Any],
    key: str,
    *,
    default: Decimal | None = None,
    low: Decimal | None = None,
    high: Decimal | None = None,
    inclusive: bool = False,
) -> Decimal:
    value = raw.get(key, default)
    if value is None or isinstance(value, bool):
        raise InvalidInputError(f"config.{key} is required (a number).")
    try:
        number = to_decimal(value)
    except NotANumber:
        raise InvalidInputError(f"config.{key} must be a number, not {value!r}.") from None
    if not number.is_finite():
        raise InvalidInputError(f"config.{key} must be finite.")
    if low is not None and (number < low if inclusive else number <= low):
        raise InvalidInputError(f"config.{key} must be {'>=' if inclusive else '>'} {low}, not {number}.")
    if high is not None and (number > high if inclusive else number >= high):
        raise InvalidInputError(f"config.{key} must be {'<=' if inclusive else '<'} {high}, not {number}.")
    return number


def config_bool(raw: Mapping[str, Any], key: str, *, default: bool) -> bool:
    """A strict boolean: ``true``/``false`` only (``"no"`` or ``1`` is an error, never a truthy surprise)."""
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInputError(f"config.{key} must be true or false, not {value!r}.")
    return value


def config_int(raw: Mapping[str, Any], key: str, *, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(f"config.{key} must be an integer in [{low}, {high}], not {value!r}.")
    return value
