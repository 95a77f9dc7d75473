"""Pure Polymarket request signing: L1 EIP-712 signatures (:mod:`.l1`) and L2 HMAC headers (:mod:`.l2`).

No I/O and nothing from ``venues``: credential derivation (a REST client) lives in
:mod:`polymarket_realtime.venues.polymarket.credentials`, the ``doctor`` in :mod:`polymarket_realtime.diagnostics`.
Nothing here places or cancels orders."""

from .l1 import L1Signer
from .l2 import ApiCredentials, build_hmac_signature, l2_headers

__all__ = ["ApiCredentials", "L1Signer", "build_hmac_signature", "l2_headers"]
