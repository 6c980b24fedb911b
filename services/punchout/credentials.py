"""The shared secrets of buyer systems: kept encrypted, compared in constant time.

A shared secret is needed in clear twice: to check the one a buyer system sends with each
cXML request (or OCI login), and to sign in to the buyer system when Procura posts it a
StatusUpdateRequest or ShipNoticeRequest. So it is encrypted (Fernet: AES-128-CBC with an
HMAC-SHA256) rather than hashed, under the key in PUNCHOUT_SECRET_KEY (a urlsafe-base64 32-byte
Fernet key; Kubernetes and docker-compose set it from a secret). Without that variable, a
local key is made once in `var/punchout-secret.key` (mode 0600), which is what `make run`
uses. Comparisons go through `hmac.compare_digest`, and a request naming an unknown identity
still pays for one decryption and comparison, so timing tells nothing about which part was
wrong.
"""
import hmac
import os

from cryptography.fernet import Fernet, InvalidToken

from services.common.config import env, var_dir

MIN_SECRET_LENGTH = 12
_fernet = None


def _key() -> bytes:
    configured = env("PUNCHOUT_SECRET_KEY")
    if configured:
        return configured.encode()
    path = var_dir() / "punchout-secret.key"
    if not path.exists():
        key = Fernet.generate_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
    return path.read_bytes().strip()


def fernet() -> Fernet:
    global _fernet
    if _fernet is None:
        _fernet = Fernet(_key())
    return _fernet


def reset():
    """Forget the loaded key (tests that change PUNCHOUT_SECRET_KEY or PROCURA_VAR)."""
    global _fernet
    _fernet = None


def seal(secret: str) -> str:
    return fernet().encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str | None:
    try:
        return fernet().decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, AttributeError):
        return None


_DUMMY = None


def matches(sealed: str | None, given: str | None) -> bool:
    """Whether `given` is the sealed secret; constant time in the secret's content. A
    missing sealed secret (unknown identity) costs the same work and is False."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = seal("procura-no-such-secret")
    known = unseal(sealed or _DUMMY)
    ok = hmac.compare_digest((known or "").encode("utf-8"), (given or "").encode("utf-8"))
    return ok and sealed is not None and known is not None and bool(given)
