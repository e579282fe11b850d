"""Privacy at ingestion: salted hashes of e-mail addresses and phone numbers, no IP addresses.

No raw PII reaches the lake. E-mail addresses are normalised (trimmed, lower-cased) and
phone numbers reduced to their digits (keeping a leading ``+``) before hashing, so the
same person gives the same hash whatever the spelling. The hash is the hex SHA-256 of
``salt + ":" + normalised value``. The salt comes from the environment variable named by
``privacy.salt_env`` (``settings.pii_salt``); it never lives in the repository.

Without a salt, hashing refuses (``PiiSaltMissingError``, a configuration error, not a bad
file) unless ``privacy.allow_unsalted_dev`` is set; then the hash is the plain SHA-256 of
the normalised value (the form ad platforms' conversion APIs use), fine for demos only.

The same rules exist as Python functions (writers, tests, small sources) and as DuckDB SQL
expressions (the events source hashes inside its streamed query); a test keeps them equal.
"""

from __future__ import annotations

import hashlib
import re

from pipelines.errors import PipelineError

# Columns that are dropped wherever they appear (never hashed, never stored).
DROPPED_FIELDS = ("ip", "ip_address", "ipAddress")
# Keys holding raw PII inside free-form JSON (properties, traits): removed after hashing.
PII_FIELDS = ("email", "phone", "ip", "ip_address", "ipAddress", "address")

_NON_DIGITS = re.compile(r"[^0-9]")


class PiiSaltMissingError(PipelineError):
    """PII was found but no salt is configured."""


def missing_salt_error(salt_env: str, file: str | None = None) -> PiiSaltMissingError:
    where = f"{file} contains e-mail addresses or phone numbers, but " if file else ""
    return PiiSaltMissingError(
        f"{where}no PII salt is set: export {salt_env}=<a long random secret> before ingesting "
        "(or set privacy.allow_unsalted_dev: true for throwaway demo data)."
    )


def normalise_email(value: str | None) -> str | None:
    if value is None:
        return None
    v = str(value).strip().lower()
    return v or None


def normalise_phone(value: str | None) -> str | None:
    if value is None:
        return None
    v = str(value).strip()
    digits = _NON_DIGITS.sub("", v)
    if not digits:
        return None
    return ("+" if v.startswith("+") else "") + digits


def _hash(normalised: str | None, salt: str | None) -> str | None:
    if normalised is None:
        return None
    payload = f"{salt}:{normalised}" if salt else normalised
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_email(value: str | None, salt: str | None) -> str | None:
    """Salted SHA-256 (hex) of the normalised address; ``None`` for empty input."""
    return _hash(normalise_email(value), salt)


def hash_phone(value: str | None, salt: str | None) -> str | None:
    """Salted SHA-256 (hex) of the normalised number; ``None`` for empty input."""
    return _hash(normalise_phone(value), salt)


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_hash(normalised_sql: str, salt: str | None) -> str:
    # sha256(null) and 'x' || null are null: empty input gives a null hash.
    payload = f"{_sql_literal(salt + ':')} || ({normalised_sql})" if salt else normalised_sql
    return f"sha256({payload})"


def sql_email_hash(expr: str, salt: str | None) -> str:
    """A DuckDB expression hashing the e-mail in ``expr`` exactly like ``hash_email``."""
    return _sql_hash(f"nullif(lower(trim(cast({expr} as varchar))), '')", salt)


def sql_phone_hash(expr: str, salt: str | None) -> str:
    """A DuckDB expression hashing the phone number in ``expr`` exactly like ``hash_phone``."""
    raw = f"trim(cast({expr} as varchar))"
    digits = f"regexp_replace({raw}, '[^0-9]', '', 'g')"
    normalised = (
        f"case when nullif({digits}, '') is null then null "
        f"else (case when starts_with({raw}, '+') then '+' else '' end) || {digits} end"
    )
    return _sql_hash(normalised, salt)
