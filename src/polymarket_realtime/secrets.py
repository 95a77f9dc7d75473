"""Secret values that cannot leak by accident.

:class:`Secret` hides its value from ``repr``/``str``/``format``/pickling; code that really needs the
value calls :meth:`Secret.reveal`. :class:`Redactor` is a last line of defence: every registered secret
is replaced by a mask in log records and in any text we hand to the model.
"""

from __future__ import annotations

import logging
import threading
from typing import Final, NoReturn

__all__ = [
    "MIN_CREDENTIAL_LENGTH",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "RedactingFilter",
    "Redactor",
    "Secret",
    "mask",
    "redactor",
]

REDACTED: Final = "***"


def mask(value: str, *, keep: int = 4) -> str:
    """Show at most ``keep`` trailing characters: enough to tell two keys apart, never enough to use."""
    if len(value) <= keep * 3:
        return REDACTED
    return f"{REDACTED}{value[-keep:]}"


class Secret:
    """A string that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if value:
            redactor.add(value)

    def reveal(self) -> str:
        return self._value

    def masked(self) -> str:
        return mask(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values cannot be pickled")


MIN_SECRET_LENGTH: Final = 6
"""Shorter values are not registered by default: masking every occurrence of a 3-5 character string
(``"test"``, ``"1234"``) garbles unrelated log text while hiding almost nothing worth stealing."""
MIN_CREDENTIAL_LENGTH: Final = 4
"""API credentials (key, secret, passphrase) are registered from this length: a short passphrase is still
a credential. Below 4 characters masking would be noise; such values are not plausible credentials."""


class Redactor:
    """Replaces every registered secret in a string. Thread-safe.

    Values shorter than ``min_length`` (default :data:`MIN_SECRET_LENGTH`; callers registering API
    credentials pass :data:`MIN_CREDENTIAL_LENGTH`) are ignored: see those constants for why.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, value: str, *, min_length: int = MIN_SECRET_LENGTH) -> None:
        if len(value) < max(1, min_length):
            return
        with self._lock:
            if value not in self._secrets:
                # Longest first so a secret containing another is replaced whole.
                self._secrets = tuple(sorted((*self._secrets, value), key=len, reverse=True))

    def scrub(self, text: str) -> str:
        for value in self._secrets:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


redactor: Final = Redactor()


class RedactingFilter(logging.Filter):
    """Logging filter that scrubs secrets from the formatted message and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = redactor.scrub(message)
        if scrubbed != message:
            record.msg = scrubbed
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redactor.scrub(logging.Formatter().formatException(record.exc_info))
        return True
