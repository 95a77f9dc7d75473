"""Polymarket authentication for read-only account access: L1 EIP-712 signatures (:mod:`.l1`), L2 HMAC
request signing (:mod:`.l2`), credential derivation and storage (:mod:`.credentials`) and connection
diagnostics (:mod:`.doctor`, imported on demand). Nothing here places or cancels orders."""

from .credentials import CredentialManager, rejected_error
from .l1 import L1Signer
from .l2 import ApiCredentials, build_hmac_signature, l2_headers

__all__ = ["ApiCredentials", "CredentialManager", "L1Signer", "build_hmac_signature", "l2_headers", "rejected_error"]
