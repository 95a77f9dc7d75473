"""Venue-side authentication, written from docs/polymarket-protocol.md#auth and #auth-l2, independent of the client's
auth module.

- L1: an EIP-712 ``ClobAuth`` signature in ``POLY_SIGNATURE``; the signer is recovered with eth-account
  and must equal ``POLY_ADDRESS``; ``POLY_TIMESTAMP`` must be within the window of simulator time.
- L2: ``POLY_SIGNATURE = urlsafe_b64(HMAC_SHA256(urlsafe_b64decode(secret), ts + METHOD + path + body))``
  with the query string excluded from ``path``.
- Credentials are deterministic per (seed, address, nonce, generation); :meth:`CredentialStore.revoke_all`
  starts a new generation, so every issued trio stops working (an expired-style 401) and a fresh
  derive issues new ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["CLOB_AUTH_MESSAGE", "AuthFailure", "CredentialStore", "IssuedCredential", "l2_signature"]

CLOB_AUTH_MESSAGE: Final = "This message attests that I control the given wallet"


class AuthFailure(Exception):
    """A request failed authentication; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    api_key: str
    secret: str
    passphrase: str
    address: str
    """Checksummed signer address the credential is bound to."""
    nonce: int

    def as_json(self) -> dict[str, str]:
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def l2_signature(secret: str, timestamp: str, method: str, path: str, body: str = "") -> str:
    """The venue's L2 HMAC (docs/polymarket-protocol.md#auth-l2): urlsafe base64 with padding kept."""
    key = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    message = f"{timestamp}{method}{path}{body}"
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def _typed_data(address: str, timestamp: str, nonce: int, chain_id: int) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "ClobAuth": [
                {"name": "address", "type": "address"},
                {"name": "timestamp", "type": "string"},
                {"name": "nonce", "type": "uint256"},
                {"name": "message", "type": "string"},
            ],
        },
        "primaryType": "ClobAuth",
        "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": chain_id},
        "message": {"address": address, "timestamp": timestamp, "nonce": nonce, "message": CLOB_AUTH_MESSAGE},
    }


class CredentialStore:
    """Issues, looks up and revokes API credentials; verifies L1 and L2 headers.

    Args:
        seed: makes credentials reproducible between runs.
        chain_id: EIP-712 domain chain id expected in L1 signatures.
        window_s: accepted |POLY_TIMESTAMP - simulator time|.
        now_s: simulator time in seconds (includes the configured skew).
    """

    def __init__(self, *, seed: int, chain_id: int, window_s: float, now_s: Callable[[], float]) -> None:
        self._seed = seed
        self.chain_id = chain_id
        self._window_s = window_s
        self._now_s = now_s
        self.generation = 0
        self._by_key: dict[str, IssuedCredential] = {}
        self._by_owner: dict[tuple[str, int], IssuedCredential] = {}

    # ------------------------------------------------------------------ issuing

    def _make(self, address: str, nonce: int) -> IssuedCredential:
        seed = hashlib.sha256(f"{self._seed}:{address.lower()}:{nonce}:{self.generation}".encode()).digest()
        api_key = str(uuid.UUID(bytes=hashlib.sha256(seed + b"key").digest()[:16], version=4))
        secret = base64.urlsafe_b64encode(hashlib.sha256(seed + b"secret").digest()).decode()
        passphrase = hashlib.sha256(seed + b"passphrase").hexdigest()
        return IssuedCredential(api_key, secret, passphrase, address, nonce)

    def _issue(self, address: str, nonce: int) -> IssuedCredential:
        cred = self._make(address, nonce)
        self._by_key[cred.api_key] = cred
        self._by_owner[(address.lower(), nonce)] = cred
        return cred

    def create(self, headers: Mapping[str, str]) -> IssuedCredential:
        """``POST /auth/api-key``: a new credential for (address, nonce).

        Raises:
            AuthFailure: bad L1 headers (401) or the credential already exists (400, like the venue).
        """
        address, nonce = self.verify_l1(headers)
        if (address.lower(), nonce) in self._by_owner:
            raise AuthFailure("Could not create api key", status=400)
        return self._issue(address, nonce)

    def derive(self, headers: Mapping[str, str]) -> IssuedCredential:
        """``GET /auth/derive-api-key``: the existing credential for (address, nonce), issued if needed."""
        address, nonce = self.verify_l1(headers)
        existing = self._by_owner.get((address.lower(), nonce))
        return existing if existing is not None else self._issue(address, nonce)

    def revoke_all(self) -> int:
        """Invalidate every issued credential. Returns how many were revoked."""
        count = len(self._by_key)
        self._by_key.clear()
        self._by_owner.clear()
        self.generation += 1
        return count

    def issued(self) -> list[IssuedCredential]:
        return list(self._by_key.values())

    def keys_for(self, address: str) -> list[str]:
        return [c.api_key for c in self._by_key.values() if c.address.lower() == address.lower()]

    def delete(self, api_key: str) -> None:
        """``DELETE /auth/api-key``: forget one credential (a later derive issues it again)."""
        cred = self._by_key.pop(api_key, None)
        if cred is not None:
            self._by_owner.pop((cred.address.lower(), cred.nonce), None)

    # ------------------------------------------------------------------ checks

    def _check_timestamp(self, raw: str | None) -> str:
        if raw is None or not raw.strip().isdigit():
            raise AuthFailure("Invalid L1 Request headers: POLY_TIMESTAMP must be unix seconds")
        if abs(int(raw) - self._now_s()) > self._window_s:
            raise AuthFailure("Invalid timestamp: too far from server time (check clock skew with GET /time)")
        return raw.strip()

    def verify_l1(self, headers: Mapping[str, str]) -> tuple[str, int]:
        """Validate L1 headers (names case-insensitive). Returns (checksummed address, nonce).

        Raises:
            AuthFailure: missing headers, stale timestamp, or a signature not made by POLY_ADDRESS.
        """
        h = {k.lower(): v for k, v in headers.items()}
        address, signature = h.get("poly_address"), h.get("poly_signature")
        if not address or not signature:
            raise AuthFailure("Invalid L1 Request headers")
        timestamp = self._check_timestamp(h.get("poly_timestamp"))
        nonce_raw = h.get("poly_nonce", "0") or "0"
        if not nonce_raw.isdigit():
            raise AuthFailure("Invalid L1 Request headers: POLY_NONCE must be an integer")
        nonce = int(nonce_raw)
        # Imported on first use: eth-account takes seconds to import, and most simulator runs never sign.
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        try:
            signable = encode_typed_data(full_message=_typed_data(address, timestamp, nonce, self.chain_id))
            recovered = str(Account.recover_message(signable, signature=signature))
        except Exception as exc:  # eth-account raises several types for malformed input
            raise AuthFailure("Invalid L1 Request headers: bad signature") from exc
        if recovered.lower() != address.lower():
            raise AuthFailure("Invalid L1 Request headers: signature does not match POLY_ADDRESS")
        return recovered, nonce

    def verify_l2(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> IssuedCredential:
        """Validate L2 headers for a request. Returns the credential.

        Raises:
            AuthFailure: unknown/revoked key, wrong passphrase or address, stale timestamp, bad HMAC.
        """
        h = {k.lower(): v for k, v in headers.items()}
        cred = self._by_key.get(h.get("poly_api_key", ""))
        if cred is None or not hmac.compare_digest(h.get("poly_passphrase", ""), cred.passphrase):
            raise AuthFailure("Unauthorized/Invalid api key")
        if h.get("poly_address", "").lower() != cred.address.lower():
            raise AuthFailure("Unauthorized/Invalid api key: POLY_ADDRESS does not own this key")
        timestamp = self._check_timestamp(h.get("poly_timestamp"))
        expected = l2_signature(cred.secret, timestamp, method.upper(), path, body.decode("utf-8", "replace"))
        if not hmac.compare_digest(h.get("poly_signature", ""), expected):
            raise AuthFailure("Unauthorized/Invalid api key: bad POLY_SIGNATURE")
        return cred

    def check_ws_auth(self, api_key: str, secret: str, passphrase: str) -> str | None:
        cred = self._by_key.get(api_key)
        if cred is None or not (
            hmac.compare_digest(cred.secret, secret) and hmac.compare_digest(cred.passphrase, passphrase)
        ):
            return None
        return cred.address
