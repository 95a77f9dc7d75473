"""L1 authentication: EIP-712 ``ClobAuth`` signatures proving control of the signer key.

Contract (docs/polymarket-protocol.md#auth-l1): domain ``{"name": "ClobAuthDomain", "version": "1", "chainId"}`` with no
``verifyingContract`` and no salt; struct ``ClobAuth(address address, string timestamp, uint256 nonce,
string message)``; the timestamp is Unix seconds rendered as a decimal string and is sent unchanged in
``POLY_TIMESTAMP``. Pure: no I/O, no clock (callers pass the server's time to avoid skew failures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from ..errors import AuthError
from ..secrets import Secret

__all__ = [
    "CLOB_AUTH_MESSAGE",
    "L1Signer",
    "clob_auth_typed_data",
    "l1_headers",
    "recover_clob_auth_signer",
    "sign_clob_auth",
]

CLOB_AUTH_MESSAGE: Final = "This message attests that I control the given wallet"

if TYPE_CHECKING:
    from eth_account.messages import SignableMessage


def _account() -> Any:
    # eth-account costs ~4 s of imports on this machine; the MCP handshake must not wait for it, so it
    # is loaded on the first signature instead of at import time.
    from eth_account import Account

    return Account


def _signable(address: str, timestamp: int | str, nonce: int, chain_id: int) -> SignableMessage:
    from eth_account.messages import encode_typed_data

    return encode_typed_data(full_message=clob_auth_typed_data(address, timestamp, nonce, chain_id))


def clob_auth_typed_data(address: str, timestamp: int | str, nonce: int, chain_id: int) -> dict[str, Any]:
    """The full EIP-712 typed-data document the venue expects for ``ClobAuth``."""
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
        "message": {"address": address, "timestamp": str(timestamp), "nonce": nonce, "message": CLOB_AUTH_MESSAGE},
    }


class L1Signer:
    """Holds the private key (as a :class:`Secret`) and the address derived from it."""

    __slots__ = ("_key", "address", "chain_id")

    def __init__(self, private_key: Secret, chain_id: int) -> None:
        try:
            account = _account().from_key(private_key.reveal())
        except Exception:  # eth-account raises several types; never echo the value
            raise AuthError("POLYGON_PRIVATE_KEY is not a valid secp256k1 private key") from None
        self._key = private_key
        self.address: str = str(account.address)
        self.chain_id = chain_id

    def sign_clob_auth(self, timestamp: int | str, nonce: int = 0) -> str:
        """``0x``-prefixed 65-byte hex signature (r||s||v) of ``ClobAuth`` at ``timestamp``/``nonce``."""
        return sign_clob_auth(self._key, self.address, timestamp, nonce, self.chain_id)

    def headers(self, timestamp: int | str, nonce: int = 0) -> dict[str, str]:
        return l1_headers(self, timestamp, nonce)

    def __repr__(self) -> str:
        return f"L1Signer(address={self.address}, chain_id={self.chain_id})"


def sign_clob_auth(private_key: Secret, address: str, timestamp: int | str, nonce: int, chain_id: int) -> str:
    signed = _account().sign_message(_signable(address, timestamp, nonce, chain_id), private_key.reveal())
    signature: str = signed.signature.hex()
    return signature if signature.startswith("0x") else "0x" + signature


def recover_clob_auth_signer(signature: str, address: str, timestamp: int | str, nonce: int, chain_id: int) -> str:
    """Address that produced ``signature`` over this ``ClobAuth`` (what the venue checks)."""
    signable = _signable(address, timestamp, nonce, chain_id)
    return str(_account().recover_message(signable, signature=signature))


def l1_headers(signer: L1Signer, timestamp: int | str, nonce: int = 0) -> dict[str, str]:
    """``POLY_ADDRESS``, ``POLY_SIGNATURE``, ``POLY_TIMESTAMP`` (as signed) and ``POLY_NONCE``."""
    return {
        "POLY_ADDRESS": signer.address,
        "POLY_SIGNATURE": signer.sign_clob_auth(timestamp, nonce),
        "POLY_TIMESTAMP": str(timestamp),
        "POLY_NONCE": str(nonce),
    }
