"""The keys that sign access tokens: from configuration (a file read again when it changes,
or an environment variable), rotated with `procura rotate-signing-key` so that the previous
key verifies until its tokens have expired, and made on first use only for `make run`."""
import os
import stat
from datetime import timedelta

import pytest

from services.common.clock import utcnow
from services.common.context import CallerContext
from services.common.tokens import ACCESS_TOKEN_SECONDS, issue_access_token, verify_access_token
from services.identity import signing_keys
from services.identity.admin import rotate_signing_key
from services.identity.domain import tokens
from services.identity.signing_keys import (PUBLISH_AHEAD, VERIFY_AFTER, KeyRing, KeyRingError,
                                            configured_keys)

NOW = utcnow().replace(microsecond=0)


def kids(keys):
    return [k.kid for k in keys]


def test_rotation_publishes_first_signs_later_and_retires_the_old_key_after_its_tokens():
    first = KeyRing().rotated(NOW)
    old = first.signing(NOW)
    assert kids(first.published(NOW)) == [old.kid]

    later = NOW + timedelta(days=30)
    ring = first.rotated(later)
    new = ring.keys[-1]
    assert new.signs_from == later + PUBLISH_AHEAD
    # published at once, so every process knows it before any token carries it
    assert kids(ring.published(later)) == [old.kid, new.kid]
    assert ring.signing(later).kid == old.kid
    assert ring.signing(new.signs_from).kid == new.kid

    # the last token the old key signs, just before the switch, still verifies until it
    # expires
    expiry = new.signs_from + timedelta(seconds=ACCESS_TOKEN_SECONDS)
    assert old.kid in kids(ring.published(expiry))
    token = issue_access_token(CallerContext(user_id=1), old.private_pem, old.kid)
    [published] = [k for k in ring.published(expiry) if k.kid == old.kid]
    assert verify_access_token(token, published.public_pem)["sub"] == "1"
    # then it is no longer published, and the next rotation drops it from the ring
    gone = new.signs_from + VERIFY_AFTER
    assert kids(ring.published(gone)) == [new.kid]
    assert old.kid not in kids(ring.rotated(gone).keys)


def test_public_keys_serve_what_verifies_now(session):
    ring = KeyRing().rotated(NOW).rotated(NOW + timedelta(minutes=1))
    served = tokens.public_keys(ring, NOW + timedelta(minutes=1))
    assert [k["kid"] for k in served] == kids(ring.keys)
    assert all("BEGIN PUBLIC KEY" in k["public_key"] for k in served)
    assert "PRIVATE" not in repr(served)


def test_the_ring_file_is_private_and_survives_a_round_trip(tmp_path):
    path = tmp_path / "ring.json"
    assert "signs at once" in rotate_signing_key(str(path))
    first = signing_keys.read_ring(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "verify until their tokens have expired" in rotate_signing_key(str(path))
    again = signing_keys.read_ring(path)
    assert len(again.keys) == 2 and again.keys[0] == first.keys[0]
    assert [f.name for f in tmp_path.iterdir()] == ["ring.json"]  # no temporary file left


def test_rotating_needs_a_file(monkeypatch):
    monkeypatch.delenv("IDENTITY_SIGNING_KEYS_FILE", raising=False)
    with pytest.raises(SystemExit, match="--file"):
        rotate_signing_key()


@pytest.mark.parametrize("text", ["", "{}", '{"keys": []}', "not json",
                                  '{"keys": [{"kid": "a", "private_key": "x", '
                                  '"created_at": "2026-01-01T00:00:00Z", '
                                  '"signs_from": "2026-01-01T00:00:00Z"}]}'])
def test_a_broken_ring_is_refused_with_the_reason(text):
    with pytest.raises(KeyRingError):
        KeyRing.from_json(text)


@pytest.fixture
def no_configuration(monkeypatch, tmp_path):
    monkeypatch.delenv("IDENTITY_SIGNING_KEYS", raising=False)
    monkeypatch.delenv("IDENTITY_SIGNING_KEYS_FILE", raising=False)
    monkeypatch.setenv("PROCURA_VAR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_without_configuration_keys_are_made_only_for_make_run(no_configuration):
    with pytest.raises(KeyRingError, match="IDENTITY_SIGNING_KEYS_FILE"):
        configured_keys(lambda: False)
    assert not (no_configuration / signing_keys.LOCAL_RING).exists()
    ring = configured_keys(lambda: True).current()
    assert (no_configuration / signing_keys.LOCAL_RING).exists()
    # another process of the same `make run` signs with the same key
    assert configured_keys(lambda: True).current().signing().kid == ring.signing().kid


def test_the_key_ring_from_an_environment_variable(no_configuration, monkeypatch):
    ring = KeyRing().rotated()
    monkeypatch.setenv("IDENTITY_SIGNING_KEYS", ring.to_json())
    # configured keys never look at the database
    assert configured_keys(lambda: 1 / 0).current().signing().kid == ring.signing().kid


def test_the_key_ring_file_is_read_again_when_it_changes(no_configuration, monkeypatch,
                                                         tmp_path):
    path = tmp_path / "ring.json"
    monkeypatch.setenv("IDENTITY_SIGNING_KEYS_FILE", str(path))
    with pytest.raises(KeyRingError, match="does not exist"):
        configured_keys(lambda: False)
    rotate_signing_key()
    keys = configured_keys(lambda: False)
    before = kids(keys.current().keys)
    monkeypatch.setattr(signing_keys, "RELOAD_SECONDS", 0)
    rotate_signing_key()
    after = kids(keys.current().keys)
    assert after[:1] == before and len(after) == 2
    # a file broken meanwhile: the process keeps the keys it had
    path.write_text("broken")
    assert kids(keys.current().keys) == after
