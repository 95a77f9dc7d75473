"""L2 authentication: HMAC-SHA256 request signatures with the API credential trio (stdlib only).

Contract (docs/polymarket-protocol.md#auth-l2)::

    message   = str(timestamp_s) + METHOD + path (query string excluded) + body (exact bytes sent, if any)
    key       = urlsafe_b64decode(secret)          # '=' padding restored if missing
    signature = urlsafe_b64encode(HMAC_SHA256(key, message))   # padding kept

Headers: ``POLY_ADDRESS`` (signer EOA, even for proxy/safe wallets), ``POLY_SIGNATURE``,
``POLY_TIMESTAMP``, ``POLY_API_KEY``, ``POLY_PASSPHRASE``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..errors import AuthError
from ..secrets import Secret

__all__ = ["ApiCredentials", "build_hmac_signature", "l2_headers", "signed_path"]

_URLSAFE_TO_STD = bytes.maketrans(b"-_", b"+/")


@dataclass(frozen=True, slots=True)
class ApiCredentials:
    """The L2 trio. Every field is a :class:`Secret`, so the whole object is safe to log."""

    api_key: Secret
    secret: Secret
    passphrase: Secret

    def user_channel_auth(self) -> dict[str, str]:
        """The raw trio for the user socket's ``auth`` object (no HMAC on the socket)."""
        return {"apiKey": self.api_key.reveal(), "secret": self.secret.reveal(), "passphrase": self.passphrase.reveal()}


def _decode_secret(secret: str) -> bytes:
    padded = secret + "=" * (-len(secret) % 4)
    try:
        # Same bytes as urlsafe_b64decode for any valid secret (both alphabets accepted), but garbage is
        # rejected instead of silently skipped.
        return base64.b64decode(padded.encode("ascii").translate(_URLSAFE_TO_STD), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise AuthError("POLYMARKET_API_SECRET is not valid URL-safe base64") from None


def signed_path(path_or_url: str) -> str:
    """The part of a request target that is signed: the path, without scheme, host or query string."""
    if "://" in path_or_url:
        return urlsplit(path_or_url).path or "/"
    return path_or_url.split("?", 1)[0]


def build_hmac_signature(
    secret: Secret | str, timestamp: int | str, method: str, path: str, body: bytes | str = b""
) -> str:
    """URL-safe base64 HMAC-SHA256 (padding kept) over ``ts + METHOD + path + body``."""
    raw_secret = secret.reveal() if isinstance(secret, Secret) else secret
    body_bytes = body.encode("utf-8") if isinstance(body, str) else body
    # The method is signed as given (the official vector signs "test-sign"); callers send uppercase.
    message = (str(timestamp) + method + path).encode("utf-8") + body_bytes
    digest = hmac.new(_decode_secret(raw_secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


def l2_headers(
    address: str,
    creds: ApiCredentials,
    timestamp: int | str,
    method: str,
    path: str,
    body: bytes | str = b"",
) -> dict[str, str]:
    """The five L2 headers for one request; ``path`` may be a full URL (query and host are dropped)."""
    return {
        "POLY_ADDRESS": address,
        "POLY_SIGNATURE": build_hmac_signature(creds.secret, timestamp, method, signed_path(path), body),
        "POLY_TIMESTAMP": str(timestamp),
        "POLY_API_KEY": creds.api_key.reveal(),
        "POLY_PASSPHRASE": creds.passphrase.reveal(),
    }
