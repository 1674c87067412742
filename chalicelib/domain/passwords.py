"""Password hashing with argon2id. argon2 loads on first use, not at cold start."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, Type

    # RFC 9106's second recommended profile: 64 MiB, 3 passes; argon2id.
    return PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Verified against when an account is unknown, so both paths cost the same time.
    return _hasher().hash("decoy password that matches nothing")


def hash_password(password: str) -> str:
    """The argon2id hash to store, salt and parameters included, so verifying needs nothing else."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no stored hash, spend the same effort and fail."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        matched = _hasher().verify(stored_hash or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return bool(matched and stored_hash)


def needs_rehash(stored_hash: str) -> bool:
    """Whether a stored hash was made with other parameters than today's. Sign-in asks, since
    only then is the plain password at hand to hash again."""
    return _hasher().check_needs_rehash(stored_hash)
