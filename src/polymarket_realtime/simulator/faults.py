"""Fault injection. Every fault affects all channels (market, user, RTDS) and is logged in observations.

Methods are synchronous (safe to call from tests or the control API inside the simulator's loop); the
frames they send go through the connections' ordinary outgoing queues.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

from .observe import Observations
from .rest_faults import RestFaults

__all__ = ["FAULT_KINDS", "Faults"]

FAULT_KINDS: Final = (
    "drop_all",
    "go_silent",
    "close_1008",
    "send_malformed",
    "send_unknown_event",
    "send_oversize",
    "refuse_connections",
    "delay_initial_dump",
    "http_429",
    "http_503",
)

MALFORMED_FRAME: Final = '{"event_type": "book", "asset_id": "1234", "bids": [{"price": "0.5", "si'
DEFAULT_OVERSIZE_BYTES: Final = 5 * 1024 * 1024


class _Connections(Protocol):
    def abort_all(self) -> int: ...
    def close_all(self, code: int, reason: str) -> int: ...
    def push_all(self, texts_by_channel: dict[str, str]) -> int: ...


class Faults:
    """Switches and one-shot actions that break the simulated venue on purpose."""

    def __init__(self, connections: _Connections, observations: Observations, *, dump_delay_s: float = 0.0) -> None:
        self._conns = connections
        self._obs = observations
        self.silent = False
        """While True, no data frames are sent on any channel (PING is still answered)."""
        self.refuse_until = 0.0
        self.dump_delay_s = dump_delay_s
        self.rest = RestFaults()
        """Pending REST error answers (``http_429``/``http_503``); see :mod:`.rest_faults`."""

    @property
    def refusing(self) -> bool:
        return time.monotonic() < self.refuse_until

    def drop_all(self) -> int:
        """Abort every TCP connection without a close handshake. Returns how many."""
        self._obs.fault("drop_all")
        return self._conns.abort_all()

    def go_silent(self, on: bool = True) -> None:
        """Stop (or resume) sending data while still answering PING: a stalled feed."""
        self.silent = on
        self._obs.fault(f"go_silent:{on}")

    def close_1008(self) -> int:
        """Close every connection with code 1008 (policy violation)."""
        self._obs.fault("close_1008")
        return self._conns.close_all(1008, "policy violation")

    def send_malformed(self) -> int:
        """Send a truncated JSON frame on every connection."""
        self._obs.fault("send_malformed")
        return self._conns.push_all(dict.fromkeys(("market", "user", "rtds"), MALFORMED_FRAME))

    def send_unknown_event(self) -> int:
        """Send a well-formed event of a type no client knows (clients must skip it)."""
        self._obs.fault("send_unknown_event")
        now = int(time.time() * 1000)
        market = f'{{"event_type":"sim_unknown_event","market":"0x00","timestamp":"{now}"}}'
        rtds = f'{{"topic":"sim_unknown_topic","type":"update","timestamp":{now},"payload":{{}}}}'
        return self._conns.push_all({"market": market, "user": market, "rtds": rtds})

    def send_oversize(self, nbytes: int = DEFAULT_OVERSIZE_BYTES) -> int:
        """Send one valid JSON frame of about ``nbytes`` bytes (beyond a client's frame limit)."""
        self._obs.fault(f"send_oversize:{nbytes}")
        head = '{"event_type":"sim_padding","padding":"'
        text = head + "x" * max(0, nbytes - len(head) - 2) + '"}'
        return self._conns.push_all(dict.fromkeys(("market", "user", "rtds"), text))

    def refuse_connections(self, seconds: float) -> None:
        """Answer new websocket handshakes with HTTP 503 for ``seconds`` (0 clears)."""
        self.refuse_until = time.monotonic() + seconds if seconds > 0 else 0.0
        self._obs.fault(f"refuse_connections:{seconds}")

    def delay_initial_dump(self, seconds: float) -> None:
        """Delay every later initial dump (and dynamic-subscribe books) by ``seconds`` (0 clears)."""
        self.dump_delay_s = max(0.0, seconds)
        self._obs.fault(f"delay_initial_dump:{seconds}")

    def apply(
        self, kind: str, *, seconds: float | None = None, on: bool | None = None, nbytes: int | None = None
    ) -> None:
        """Dispatch by name (control API and CLI).

        Raises:
            ValueError: unknown ``kind`` or a missing ``seconds``.
        """
        if kind == "drop_all":
            self.drop_all()
        elif kind == "go_silent":
            self.go_silent(True if on is None else on)
        elif kind == "close_1008":
            self.close_1008()
        elif kind == "send_malformed":
            self.send_malformed()
        elif kind == "send_unknown_event":
            self.send_unknown_event()
        elif kind == "send_oversize":
            self.send_oversize(nbytes or DEFAULT_OVERSIZE_BYTES)
        elif kind in ("http_429", "http_503"):
            # The next REST request answers the error; ``seconds`` becomes its Retry-After.
            self.rest.add(int(kind[5:]), retry_after_s=seconds)
            self._obs.fault(kind)
        elif kind in ("refuse_connections", "delay_initial_dump"):
            if seconds is None:
                raise ValueError(f"fault {kind} needs 'seconds'")
            getattr(self, kind)(seconds)
        else:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
