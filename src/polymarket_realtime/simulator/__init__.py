"""An offline Polymarket-protocol simulator: market, user, RTDS and sports sockets plus CLOB/Gamma REST.

An independent implementation of ``docs/polymarket-protocol.md`` (it imports nothing from ``venues`` or
``model``), used by the tests, the demo and anyone without network access.
"""

from __future__ import annotations

from .auth import CLOB_AUTH_MESSAGE, CredentialStore, IssuedCredential, l2_signature
from .config import SimAccount, SimulatorConfig
from .faults import FAULT_KINDS, Faults
from .market_model import MarketModel, SimMarket, SimToken
from .observe import ConnectionObservation, Observations
from .runtime import Simulator
from .source import BookSource, EventSource, ModelSource
from .wire import OutFrame, frames_from_venue_text

__all__ = [
    "CLOB_AUTH_MESSAGE",
    "FAULT_KINDS",
    "BookSource",
    "ConnectionObservation",
    "CredentialStore",
    "EventSource",
    "Faults",
    "IssuedCredential",
    "MarketModel",
    "ModelSource",
    "Observations",
    "OutFrame",
    "SimAccount",
    "SimMarket",
    "SimToken",
    "Simulator",
    "SimulatorConfig",
    "frames_from_venue_text",
    "l2_signature",
]
