"""Secrets: password hashing (argon2id, memory-hard), session tokens and integrator API keys.

Session tokens and API keys are 256-bit random values, so a plain SHA-256 is enough to store them;
passwords are chosen by people and get argon2id.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked when a username is unknown, so a wrong username costs as long as a wrong
    password. Made on first use: hashing takes ~0.1 s, too long for every process start."""
    return _HASHER.hash(secrets.token_urlsafe(16))


KEY_PREFIX = "voc"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return (
            _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """(key, prefix, secret hash): the key is shown once; prefix and hash are stored."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_PREFIX}_{prefix}_{secret}", prefix, digest(secret)


def split_api_key(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a key in our format, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def same_digest(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_hash)
