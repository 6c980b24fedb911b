"""The keys that sign access tokens, from configuration.

A key ring is JSON: `{"keys": [{"kid", "private_key" (PEM, Ed25519), "created_at",
"signs_from"}]}` (times in ISO 8601 UTC). identity reads it from

- `IDENTITY_SIGNING_KEYS_FILE`, a file (in Kubernetes, a Secret mounted as a file), read
  again when it changes; or
- `IDENTITY_SIGNING_KEYS`, the ring itself (an environment variable, e.g. from a Secret).

The newest key whose `signs_from` has come signs new tokens. Every key is published (to the
gateway, by RPC `public_keys`) from the moment it is in the ring until `VERIFY_AFTER` past
the moment its successor began signing: by then every token it signed has expired.

`procura rotate-signing-key` adds a key that is published at once and signs only
`PUBLISH_AHEAD` later, when every identity and gateway process has seen it, and drops the
keys nothing needs any more.

Without either setting, identity makes a ring on first use under var/, but only in a
database created by `make run` (local_development.py); elsewhere it refuses to start.
"""
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nameko.extensions import DependencyProvider

from services.common.clock import utcnow
from services.common.config import database_url, env, var_dir
from services.common.tokens import ACCESS_TOKEN_SECONDS, new_signing_key

log = logging.getLogger(__name__)

PUBLISH_AHEAD = timedelta(minutes=5)
# a token lives ACCESS_TOKEN_SECONDS; the margin covers processes that read a changed
# ring late (a Secret reaches a pod's file within a minute or two)
VERIFY_AFTER = timedelta(seconds=ACCESS_TOKEN_SECONDS) + PUBLISH_AHEAD
RELOAD_SECONDS = 10
LOCAL_RING = "identity-signing-keys.json"


class KeyRingError(Exception):
    """The configured keys cannot be used; the message says why."""


def _time(text):
    return datetime.fromisoformat(text.rstrip("Z"))


def _text(moment):
    return moment.replace(microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class Key:
    kid: str
    private_pem: str
    created_at: datetime
    signs_from: datetime

    @cached_property
    def public_pem(self) -> str:
        private = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        return private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @classmethod
    def new(cls, now, signs_from):
        private_pem, _ = new_signing_key()
        return cls(uuid.uuid4().hex, private_pem, now, signs_from)


class KeyRing:
    def __init__(self, keys=()):
        self.keys = sorted(keys, key=lambda k: (k.signs_from, k.created_at))

    # ---- as identity uses it
    def signing(self, now=None) -> Key:
        now = now or utcnow()
        current = [k for k in self.keys if k.signs_from <= now]
        if not current:
            raise KeyRingError("no signing key is in use yet")
        return current[-1]

    def published(self, now=None) -> list:
        """The keys that verify tokens at `now`, oldest first."""
        now = now or utcnow()
        return [k for k, until in self._verify_until() if until is None or now < until]

    def _verify_until(self):
        successors = self.keys[1:] + [None]
        return [(k, None if nxt is None else nxt.signs_from + VERIFY_AFTER)
                for k, nxt in zip(self.keys, successors)]

    # ---- as `procura rotate-signing-key` changes it
    def rotated(self, now=None) -> "KeyRing":
        """This ring with a new key, published now and signing PUBLISH_AHEAD later (at once
        in an empty ring), without the keys that no longer verify anything."""
        now = now or utcnow()
        signs_from = now + PUBLISH_AHEAD if self.keys else now
        kept = [k for k, until in self._verify_until() if until is None or now < until]
        return KeyRing(kept + [Key.new(now, signs_from)])

    # ---- as it is stored
    def to_json(self) -> str:
        """One line, so that it also fits an environment variable (an `.env` file)."""
        return json.dumps({"keys": [{"kid": k.kid, "private_key": k.private_pem,
                                     "created_at": _text(k.created_at),
                                     "signs_from": _text(k.signs_from)} for k in self.keys]},
                          separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text, source="the key ring") -> "KeyRing":
        try:
            data = json.loads(text)
            keys = [Key(str(k["kid"]), k["private_key"], _time(k["created_at"]),
                        _time(k["signs_from"])) for k in data["keys"]]
            for key in keys:
                private = serialization.load_pem_private_key(key.private_pem.encode(),
                                                             password=None)
                if not isinstance(private, Ed25519PrivateKey):
                    raise ValueError("not an Ed25519 key")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyRingError(f"{source} is not a valid key ring ({exc.__class__.__name__}); "
                               "make one with `procura rotate-signing-key --file PATH`") from None
        if not keys:
            raise KeyRingError(f"{source} holds no key")
        return cls(keys)


def read_ring(path) -> KeyRing:
    path = Path(path)
    return KeyRing.from_json(path.read_text(), source=str(path))


def write_ring(path, ring: KeyRing):
    """Replace the file at once (never half written), readable by its owner only."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(ring.to_json())
    os.replace(tmp, path)


def rotate_file(path, now=None) -> tuple:
    """`procura rotate-signing-key`: add a key to the ring at `path` (made if missing);
    returns (new key, ring)."""
    path = Path(path)
    ring = read_ring(path) if path.exists() else KeyRing()
    ring = ring.rotated(now)
    write_ring(path, ring)
    return ring.keys[-1], ring


def local_ring(path=None) -> Path:
    """make run's ring under var/, made on first use (by one process when several start)."""
    path = Path(path or var_dir() / LOCAL_RING)
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it
        else:
            with os.fdopen(fd, "w") as out:
                out.write(KeyRing().rotated().to_json())
    return path


class ConfiguredKeys:
    """The ring from the environment, or from a file read again when it changes."""

    def __init__(self, text=None, path=None):
        self.path = Path(path) if path else None
        self.ring = KeyRing.from_json(text, "IDENTITY_SIGNING_KEYS") if text else None
        self.mtime = None
        self.checked = 0.0
        if self.path is not None:
            self._reload()

    def _reload(self):
        try:
            mtime = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            raise KeyRingError(f"the key ring file {self.path} does not exist; make it with "
                               f"`procura rotate-signing-key --file {self.path}`") from None
        if mtime != self.mtime:
            self.ring = read_ring(self.path)
            self.mtime = mtime

    def current(self) -> KeyRing:
        if self.path is not None and time.monotonic() - self.checked > RELOAD_SECONDS:
            self.checked = time.monotonic()
            try:
                self._reload()
            except KeyRingError as exc:  # keep signing with what was read last
                log.error("could not read the key ring again: %s", exc)
        return self.ring


def configured_keys(is_local_database) -> ConfiguredKeys:
    """The keys this process signs with; `is_local_database()` says whether identity's
    database was created by `make run`."""
    text, path = env("IDENTITY_SIGNING_KEYS"), env("IDENTITY_SIGNING_KEYS_FILE")
    if text or path:
        return ConfiguredKeys(text=text, path=path)
    if not is_local_database():
        raise KeyRingError(
            "no signing key is configured: set IDENTITY_SIGNING_KEYS_FILE (a key ring made "
            "with `procura rotate-signing-key --file PATH`) or IDENTITY_SIGNING_KEYS; keys "
            "are made on first use only in a database created by `make run`")
    return ConfiguredKeys(path=local_ring())


def _local_database() -> bool:
    from services.common.engines import open_session
    from services.identity.local_development import is_local
    from services.identity.models import Base
    session = open_session("identity", Base, database_url("identity"))
    try:
        return is_local(session)
    finally:
        session.close()
        session.get_bind().dispose()


class SigningKeys(DependencyProvider):
    """`keys = SigningKeys()`: the key ring, loaded when the service starts (which fails,
    saying why, without usable keys)."""

    def setup(self):
        self.source = configured_keys(_local_database)

    def get_dependency(self, worker_ctx):
        return self.source.current()

    def token_public_key(self, kid):
        """The published key `kid` (PEM), with which identity's own RPC entrypoints verify
        the tokens of their calls (services/common/entrypoints.py)."""
        return next((k.public_pem for k in self.source.current().published() if k.kid == kid),
                    None)
