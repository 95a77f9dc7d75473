"""The redactor's safety net for credentials: every form of the private key, short passphrases."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from polymarket_realtime.config import Settings
from polymarket_realtime.secrets import MIN_CREDENTIAL_LENGTH, REDACTED, Redactor, redactor
from polymarket_realtime.venues.polymarket.credentials import CredentialManager


def _settings(**env: str) -> Settings:
    return Settings.from_env(env, env_file=Path(os.devnull))


def test_private_key_without_0x_is_masked_in_every_form() -> None:
    bare = secrets.token_hex(32).upper()  # given without 0x, in upper case
    settings = _settings(POLYGON_PRIVATE_KEY=bare)
    assert settings.private_key is not None and settings.private_key.reveal() == "0x" + bare
    for form in (bare, bare.lower(), "0x" + bare, "0x" + bare.lower()):
        assert redactor.scrub(f"key={form}!") == f"key={REDACTED}!", form


def test_private_key_with_0x_is_masked_bare_too() -> None:
    bare = secrets.token_hex(32)
    _settings(POLYGON_PRIVATE_KEY="0x" + bare)
    assert redactor.scrub(f"[{bare}]") == f"[{REDACTED}]"


def test_short_credentials_are_registered_from_four_characters() -> None:
    # Characters that occur in no other test's output: the redactor is process-wide.
    passphrase, api_key = "~Qz^", "~k^Y"
    settings = _settings(
        POLYMARKET_API_KEY=api_key,
        POLYMARKET_API_SECRET="c2VjcmV0LXNob3J0LXRlc3Q=",
        POLYMARKET_PASSPHRASE=passphrase,
        POLYGON_ADDRESS="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    )
    CredentialManager(settings)
    assert redactor.scrub(f"p={passphrase} k={api_key}") == f"p={REDACTED} k={REDACTED}"


def test_minimum_lengths_are_documented_behaviour() -> None:
    fresh = Redactor()
    fresh.add("abcde")  # below the general minimum of 6: masking it would garble ordinary text
    fresh.add("abc", min_length=MIN_CREDENTIAL_LENGTH)  # not a plausible credential
    fresh.add("wxyz", min_length=MIN_CREDENTIAL_LENGTH)
    assert fresh.scrub("abcde abc wxyz") == f"abcde abc {REDACTED}"
