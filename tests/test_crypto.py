import os

import pytest

from ghostfolio_plaid.crypto import DecryptionError, TokenCipher

TOKEN = "access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970"


def test_round_trip_with_random_nonce() -> None:
    cipher = TokenCipher(os.urandom(32))
    first = cipher.encrypt(TOKEN, row_id="row-1")
    second = cipher.encrypt(TOKEN, row_id="row-1")
    assert first != second
    assert TOKEN not in first
    assert cipher.decrypt(first, row_id="row-1") == TOKEN
    assert cipher.decrypt(second, row_id="row-1") == TOKEN


def test_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    cipher = TokenCipher(os.urandom(32))
    stored = cipher.encrypt(TOKEN, row_id="row-1")
    with pytest.raises(DecryptionError):
        cipher.decrypt(stored, row_id="row-2")


def test_other_key_and_tampering_are_rejected() -> None:
    stored = TokenCipher(os.urandom(32)).encrypt(TOKEN, row_id="row-1")
    with pytest.raises(DecryptionError):
        TokenCipher(os.urandom(32)).decrypt(stored, row_id="row-1")
    cipher = TokenCipher(os.urandom(32))
    stored = cipher.encrypt(TOKEN, row_id="row-1")
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered, row_id="row-1")
    with pytest.raises(DecryptionError):
        cipher.decrypt("garbage", row_id="row-1")


def test_rotation_newest_key_encrypts_older_keys_decrypt() -> None:
    old, new = os.urandom(32), os.urandom(32)
    stored = TokenCipher(old).encrypt(TOKEN, row_id="row-1")
    both = TokenCipher(new, old)
    assert both.needs_rotation(stored)
    assert both.decrypt(stored, row_id="row-1") == TOKEN
    fresh = both.encrypt(TOKEN, row_id="row-1")
    assert not both.needs_rotation(fresh)
    assert TokenCipher(new).decrypt(fresh, row_id="row-1") == TOKEN
    with pytest.raises(DecryptionError):
        TokenCipher(old).decrypt(fresh, row_id="row-1")
