"""The production password profile, with the real (slow) argon2id parameters."""

from __future__ import annotations

import pytest
from argon2 import Type, extract_parameters

from chalicelib.domain import passwords

pytestmark = pytest.mark.real_argon2


def test_hashes_use_argon2id_with_the_rfc_9106_memory_hard_profile() -> None:
    stored = passwords.hash_password("a long enough passphrase")

    parameters = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert parameters.type is Type.ID
    assert parameters.memory_cost == 65536
    assert parameters.time_cost == 3


def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = passwords.hash_password("a long enough passphrase")

    assert passwords.verify_password(stored, "a long enough passphrase")
    assert not passwords.verify_password(stored, "a long enough passphrasE")


def test_an_unknown_account_fails_after_the_same_work_as_a_known_one() -> None:
    # No stored hash: the decoy is verified instead, and the answer is always no.
    assert not passwords.verify_password(None, "decoy password that matches nothing")
    assert not passwords.verify_password(None, "anything at all")


def test_a_hash_from_weaker_parameters_is_flagged_for_rehashing() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID).hash("x" * 12)

    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("x" * 12))
