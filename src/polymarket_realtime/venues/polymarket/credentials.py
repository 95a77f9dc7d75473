"""API credentials for the user channel and the read-only account endpoints.

:class:`CredentialManager` decides where the L2 trio comes from, in this order:

1. ``POLYMARKET_API_KEY`` / ``POLYMARKET_API_SECRET`` / ``POLYMARKET_PASSPHRASE`` from the environment;
2. a credentials file saved earlier in the data directory (mode 0600, bound to signer, chain and host);
3. create-or-derive from ``POLYGON_PRIVATE_KEY``: ``POST /auth/api-key``, falling back to
   ``GET /auth/derive-api-key`` when creation fails (the venue answers 400 when the key exists). The L1
   timestamp comes from ``GET /time`` so a skewed local clock cannot break it.

After a 401 a caller asks for ``get(refresh=True)`` once: that re-derives (never from the file or the
environment again) and replaces the file. A second rejection is the caller's cue to raise
:class:`AuthError` (:func:`rejected_error` builds the message). Secrets are held as
:class:`~polymarket_realtime.secrets.Secret` from the moment they are parsed; logs name the file, never
its content.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Final, Literal

import anyio
import httpx2

from ...auth.l1 import L1Signer
from ...auth.l2 import ApiCredentials, l2_headers
from ...clock import SYSTEM_CLOCK, Clock
from ...config import Settings
from ...errors import AuthError, VenueError, VenueUnavailableError
from ...secrets import MIN_CREDENTIAL_LENGTH, Secret, redactor
from .ratelimit import RateLimitedTransport

__all__ = ["CredentialManager", "CredentialSource", "credentials_file_path", "rejected_error"]

logger = logging.getLogger(__name__)

CredentialSource = Literal["env", "file", "derived"]
_FILE_VERSION: Final = 1
_NO_CREDENTIALS: Final = (
    "no Polymarket credentials configured: set POLYGON_PRIVATE_KEY (credentials are then derived and saved), "
    "or all of POLYMARKET_API_KEY, POLYMARKET_API_SECRET and POLYMARKET_PASSPHRASE"
)


def credentials_file_path(settings: Settings, address: str) -> Path:
    """Where derived credentials for ``address`` on ``settings.chain_id`` are kept."""
    return settings.data_dir / "credentials" / f"api-credentials-{settings.chain_id}-{address.lower()}.json"


def rejected_error(source: str, *, status: int | None = 401, url: str | None = None) -> AuthError:
    """The error after credentials were rejected even once re-derived (or could not be re-derived)."""
    if source == "env":
        hint = (
            "the POLYMARKET_API_KEY/SECRET/PASSPHRASE trio was rejected; make sure it was derived from this "
            "wallet's signer key (website Builder keys do not work), or unset it and set POLYGON_PRIVATE_KEY "
            "so fresh credentials are derived"
        )
    else:
        hint = (
            "credentials derived from POLYGON_PRIVATE_KEY were rejected even after re-deriving; check "
            "POLYMARKET_CHAIN_ID matches the CLOB host and run `polymarket-realtime-mcp doctor`"
        )
    return AuthError(f"Polymarket rejected the API credentials (HTTP {status}): {hint}", status=status, url=url)


class CredentialManager:
    """Owns the signer key and the current API credentials; safe to share between tasks.

    Args:
        settings: credentials, chain, CLOB URL and data directory come from here.
        http: an ``httpx2.AsyncClient`` (the caller owns its lifetime); one is made per call if None.
    """

    def __init__(
        self, settings: Settings, *, http: httpx2.AsyncClient | None = None, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._http = http
        self._lock = anyio.Lock()
        self._creds: ApiCredentials | None = None
        self._source: CredentialSource | None = None
        self._clock_offset_s: float | None = None
        self.derivations = 0
        self.signer: L1Signer | None = None
        _register(settings.api_key, settings.api_secret, settings.passphrase)
        if settings.private_key is not None:
            self.signer = L1Signer(settings.private_key, settings.chain_id)
            if settings.address and settings.address.lower() != self.signer.address.lower():
                raise AuthError(
                    f"POLYGON_ADDRESS {settings.address} does not match the address {self.signer.address} of "
                    "POLYGON_PRIVATE_KEY: fix POLYGON_ADDRESS (it must be the signer EOA, not the funder/proxy "
                    "wallet; put that in POLYMARKET_FUNDER) or unset it"
                )

    # --- state -----------------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        return self.signer is not None or self._settings.has_api_credentials

    @property
    def address(self) -> str | None:
        """The signer EOA sent as ``POLY_ADDRESS`` (from the key, else ``POLYGON_ADDRESS``)."""
        return self.signer.address if self.signer is not None else self._settings.address

    @property
    def source(self) -> CredentialSource | None:
        return self._source

    @property
    def clock_offset_s(self) -> float | None:
        """Server time minus local time, from the last ``GET /time`` (None if never fetched)."""
        return self._clock_offset_s

    @property
    def file_path(self) -> Path | None:
        return credentials_file_path(self._settings, self.signer.address) if self.signer is not None else None

    def status(self) -> dict[str, Any]:
        """JSON-ready, secret-free description (API key shown masked)."""
        return {
            "configured": self.configured,
            "address": self.address,
            "chain_id": self._settings.chain_id,
            "source": self._source,
            "api_key": self._creds.api_key.masked() if self._creds is not None else None,
            "credentials_file": str(self.file_path) if self.file_path is not None else None,
            "derivations": self.derivations,
            "clock_offset_s": None if self._clock_offset_s is None else round(self._clock_offset_s, 3),
        }

    def require_configured(self) -> None:
        if not self.configured:
            raise AuthError(_NO_CREDENTIALS)

    # --- credentials -----------------------------------------------------------------------

    async def get(self, *, refresh: bool = False) -> ApiCredentials:
        """Current credentials; ``refresh=True`` after a rejection forces a fresh derivation.

        Raises:
            AuthError: nothing configured, or a refresh is impossible (env trio without a private key),
                or the venue refused to create/derive a key.
            VenueUnavailableError: the CLOB host cannot be reached.
        """
        self.require_configured()
        async with self._lock:
            if self._creds is not None and not refresh:
                return self._creds
            if not refresh:
                if self._settings.has_api_credentials:
                    assert self._settings.api_key and self._settings.api_secret and self._settings.passphrase
                    self._set(
                        ApiCredentials(self._settings.api_key, self._settings.api_secret, self._settings.passphrase),
                        "env",
                    )
                    logger.info("using Polymarket API credentials from the environment (key %s)", self._masked())
                    return self._require()
                stored = self._load_file()
                if stored is not None:
                    self._set(stored, "file")
                    logger.info(
                        "reusing saved Polymarket API credentials from %s (key %s)", self.file_path, self._masked()
                    )
                    return self._require()
            if self.signer is None:
                raise rejected_error("env")
            self._set(await self._derive(self.signer), "derived")
            self._save_file(self.signer)
            return self._require()

    async def server_time_s(self) -> int:
        """``GET /time`` (Unix seconds); also refreshes :attr:`clock_offset_s`."""
        before = self._clock.time_ns() / 1e9
        response = await self._request("GET", "/time")
        local = (before + self._clock.time_ns() / 1e9) / 2  # the server read its clock about halfway through
        try:
            server = int(float(response.text.strip().strip('"')))
        except ValueError:
            raise VenueError(
                f"GET /time returned a non-numeric body: {response.text[:80]!r}", url=str(response.url)
            ) from None
        self._clock_offset_s = server - local
        return server

    def now_s(self) -> int:
        """Local time corrected by the last measured server offset (Unix seconds)."""
        return int(self._clock.time_ns() / 1e9 + (self._clock_offset_s or 0.0))

    async def auth_headers(
        self, method: str, path: str, body: bytes | str = b"", *, refresh: bool = False
    ) -> dict[str, str]:
        """L2 headers for one request, timestamped on the server's clock."""
        creds = await self.get(refresh=refresh)
        address = self.address
        if address is None:
            raise AuthError(
                "set POLYGON_ADDRESS (the signer EOA) to use POLYMARKET_API_KEY without POLYGON_PRIVATE_KEY"
            )
        if self._clock_offset_s is None:
            try:
                await self.server_time_s()
            except VenueError:
                logger.debug("GET /time failed; signing with the local clock")
        return l2_headers(address, creds, self.now_s(), method, path, body)

    # --- internals -------------------------------------------------------------------------

    def _set(self, creds: ApiCredentials, source: CredentialSource) -> None:
        _register(creds.api_key, creds.secret, creds.passphrase)
        self._creds = creds
        self._source = source

    def _require(self) -> ApiCredentials:
        assert self._creds is not None
        return self._creds

    def _masked(self) -> str:
        return self._creds.api_key.masked() if self._creds is not None else "-"

    async def _derive(self, signer: L1Signer) -> ApiCredentials:
        timestamp = await self.server_time_s()
        headers = signer.headers(timestamp, 0)
        created = await self._request("POST", "/auth/api-key", headers=headers)
        creds = _parse_creds(created) if created.status_code == 200 else None
        if creds is None:
            logger.info("POST /auth/api-key answered %s; deriving the existing key instead", created.status_code)
            derived = await self._request("GET", "/auth/derive-api-key", headers=signer.headers(timestamp, 0))
            creds = _parse_creds(derived) if derived.status_code == 200 else None
            if creds is None:
                raise AuthError(
                    f"Polymarket refused to create or derive API credentials for {signer.address} (HTTP "
                    f"{derived.status_code}: {_error_text(derived)}); check POLYGON_PRIVATE_KEY and "
                    "POLYMARKET_CHAIN_ID (137 for Polygon, 80002 for Amoy) match the CLOB host",
                    status=derived.status_code,
                    url=str(derived.url),
                )
        self.derivations += 1
        logger.info("derived Polymarket API credentials for %s (key %s)", signer.address, creds.api_key.masked())
        return creds

    async def _request(self, method: str, path: str, *, headers: dict[str, str] | None = None) -> httpx2.Response:
        url = self._settings.clob_url + path
        try:
            if self._http is not None:
                return await self._http.request(method, url, headers=headers)
            transport = RateLimitedTransport("clob", self._settings.clob_url)
            async with httpx2.AsyncClient(timeout=self._settings.http_timeout_s, transport=transport) as client:
                return await client.request(method, url, headers=headers)
        except httpx2.TransportError as exc:
            raise VenueUnavailableError(f"could not reach {url}: {type(exc).__name__}", url=url) from None

    def _load_file(self) -> ApiCredentials | None:
        path = self.file_path
        if path is None or not path.is_file():
            return None
        try:
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                os.chmod(path, 0o600)
                logger.warning("tightened permissions of %s from %o to 600", path, mode)
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("clob_url") != self._settings.clob_url or data.get("chain_id") != self._settings.chain_id:
                return None
            return ApiCredentials(Secret(data["api_key"]), Secret(data["secret"]), Secret(data["passphrase"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            logger.warning("ignoring unreadable credentials file %s; deriving fresh credentials", path)
            return None

    def _save_file(self, signer: L1Signer) -> None:
        path = credentials_file_path(self._settings, signer.address)
        creds = self._require()
        payload = json.dumps(
            {
                "version": _FILE_VERSION,
                "address": signer.address,
                "chain_id": self._settings.chain_id,
                "clob_url": self._settings.clob_url,
                "api_key": creds.api_key.reveal(),
                "secret": creds.secret.reveal(),
                "passphrase": creds.passphrase.reveal(),
                "saved_at": self._clock.time_ns() // 1_000_000_000,
            }
        ).encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            # Created 0600 from the first byte (never chmod after writing), then renamed into place.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, payload)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError as exc:
            logger.warning(
                "could not save Polymarket API credentials to %s (%s); they will be derived again", path, exc.strerror
            )
            return
        logger.info("saved Polymarket API credentials to %s (mode 0600; delete it to force re-derivation)", path)


def _register(*values: Secret | None) -> None:
    """Mask credentials from 4 characters (``Secret`` itself ignores values shorter than 6)."""
    for value in values:
        if value is not None:
            redactor.add(value.reveal(), min_length=MIN_CREDENTIAL_LENGTH)


def _parse_creds(response: httpx2.Response) -> ApiCredentials | None:
    try:
        data = response.json()
        api_key, secret, passphrase = data["apiKey"], data["secret"], data["passphrase"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(api_key, str) and isinstance(secret, str) and isinstance(passphrase, str) and api_key):
        return None
    return ApiCredentials(Secret(api_key), Secret(secret), Secret(passphrase))


def _error_text(response: httpx2.Response) -> str:
    try:
        data = response.json()
        if isinstance(data, dict) and "error" in data:
            return str(data["error"])[:200]
    except ValueError:
        pass
    return response.text[:200] or response.reason_phrase
