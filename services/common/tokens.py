"""Access tokens: JWTs signed with Ed25519 by identity, verified locally by the gateway.

Claims: iss (who signed: identity), aud (who may accept it: Procura's services), sub (user
id), cid (company id, absent for staff), roles, features, cat (catalog ids), staff, loc
(locale), email, name, cur (company currency), iat, exp, jti; the header's `kid` names the
key. Verification checks the signature, exp, iss and aud.

Service tokens (aud `procura-bus`, never accepted over HTTP) are what a service shows on the
bus for work it does by itself (event handlers, schedules, renewals, the gateway's calls for
anonymous visitors): sub `service:<name>`, svc (the service), staff (acts with staff rights),
obo (may say on whose behalf it calls), iat, exp (5 minutes), jti. identity issues them.
"""
import functools
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.context import CallerContext

ALGORITHM = "EdDSA"
ACCESS_TOKEN_SECONDS = 15 * 60
ISSUER = "procura-identity"
AUDIENCE = "procura"
SERVICE_AUDIENCE = "procura-bus"
SERVICE_TOKEN_SECONDS = 5 * 60
# the gateway calls for anonymous visitors only: its own token carries no rights
ANONYMOUS_ONLY_SERVICES = ("gateway",)


def new_signing_key():
    """A fresh key pair as PEM strings: (private_pem, public_pem)."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def issue_access_token(ctx: CallerContext, private_pem: str, kid: str,
                       lifetime: int = ACCESS_TOKEN_SECONDS, now: float | None = None) -> str:
    now = int(now if now is not None else time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(ctx.user_id), "roles": list(ctx.roles),
              "features": list(ctx.features), "cat": list(ctx.catalog_ids), "staff": bool(ctx.staff), "loc": ctx.locale,
              "email": ctx.email, "name": ctx.name, "cur": ctx.currency, "iat": now, "exp": now + lifetime,
              "jti": uuid.uuid4().hex}
    if ctx.company_id is not None:
        claims["cid"] = ctx.company_id
    return jwt.encode(claims, private_pem, algorithm=ALGORITHM, headers={"kid": kid})


class InvalidToken(Exception):
    pass


def token_kid(token: str) -> str | None:
    """The `kid` header: which key signed the token."""
    if not isinstance(token, str):
        raise InvalidToken("a token is a string")
    return _kid_of(token)


@functools.lru_cache(maxsize=1024)
def _kid_of(token: str) -> str | None:
    # read once per token, like its signature
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc))
    return kid if isinstance(kid, str) else None


def verify_access_token(token: str, public_pem: str) -> dict:
    return _verified(token, public_pem, (AUDIENCE,), leeway=0)


def issue_service_token(service: str, private_pem: str, kid: str,
                        lifetime: int = SERVICE_TOKEN_SECONDS, now: float | None = None) -> str:
    """A short-lived token for the work `service` does by itself. A back-end service acts
    with staff rights and may act on behalf of a company or user it names (staff may act for
    any); the gateway's token is anonymous."""
    now = int(now if now is not None else time.time())
    trusted = service not in ANONYMOUS_ONLY_SERVICES
    claims = {"iss": ISSUER, "aud": SERVICE_AUDIENCE, "sub": f"service:{service}",
              "svc": service, "staff": trusted, "obo": trusted, "iat": now,
              "exp": now + lifetime, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, private_pem, algorithm=ALGORITHM, headers={"kid": kid})


def verify_bus_token(token: str, public_pem: str, leeway: float = 0) -> dict:
    """A user's access token or a service token, as a service checks it on the bus.
    `leeway` lets a user's token expire while a call it started is still going on."""
    return _verified(token, public_pem, (AUDIENCE, SERVICE_AUDIENCE), leeway)


def _verified(token: str, public_pem: str, audiences: tuple, leeway: float) -> dict:
    """The claims of a token signed by `public_pem`'s key for one of `audiences`, not
    expired (give or take `leeway` seconds)."""
    try:
        claims = _signed_claims(token, public_pem, audiences)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc))
    exp = claims["exp"]
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        raise InvalidToken("Expiration Time claim (exp) must be an integer.")
    if exp + leeway <= time.time():
        raise InvalidToken("Signature has expired")
    return dict(claims)


@functools.lru_cache(maxsize=1024)
def _signed_claims(token: str, public_pem: str, audiences: tuple) -> dict:
    """Signature, issuer, audience and the times that cannot change their verdict later
    (iat, nbf), checked once per token: a buyer's token comes with every call for its 15
    minutes, and parsing the key and checking the signature were a tenth of a service's
    CPU. Only `exp` changes its verdict with time; `_verified` checks it on every use.
    A refused token is not remembered (an exception is not cached). 1,024 tokens (a few MB
    at most): a process with more callers at once checks some signatures again."""
    return jwt.decode(token, public_pem, algorithms=[ALGORITHM], issuer=ISSUER,
                      audience=list(audiences),
                      options={"require": ["exp", "iat", "sub", "iss", "aud"],
                               "verify_exp": False})


def context_from_claims(claims: dict, request_id=None) -> CallerContext:
    return CallerContext(user_id=int(claims["sub"]), company_id=claims.get("cid"),
                         roles=claims.get("roles", []), features=claims.get("features", []),
                         catalog_ids=claims.get("cat", []), staff=bool(claims.get("staff")),
                         locale=claims.get("loc", "en"), request_id=request_id,
                         email=claims.get("email"), name=claims.get("name"),
                         currency=claims.get("cur"))
