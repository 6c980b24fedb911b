"""What one gateway process needs to verify access tokens without calling identity:
identity's public keys (`PublicKeys`: fetched by RPC when first needed, when a token names
an unknown key and when old) and the users whose older tokens are refused (rights changed,
password changed or reset, disabled).

The `AccessTokens` dependency keeps one `TokenKeys` per service container, shared by its
workers (a container's workers are green threads of one process)."""
import time

from nameko.extensions import DependencyProvider

from services.common.caller_auth import PublicKeys
from services.common.tokens import (ACCESS_TOKEN_SECONDS, InvalidToken, token_kid,
                                    verify_access_token)


class TokenKeys:
    def __init__(self, keys=None):
        self.public_keys = PublicKeys(keys)
        # user id -> tokens issued at or before this time are refused
        self.revoked_before = {}

    def verify(self, token, fetch_keys) -> dict:
        """The token's claims; `fetch_keys()` gives identity's keys when one is missing."""
        kid = token_kid(token)
        public = self.public_keys.get(kid, fetch_keys) if kid else None
        if public is None:
            raise InvalidToken("unknown signing key")
        claims = verify_access_token(token, public)
        cutoff = self.revoked_before.get(int(claims["sub"]))
        if cutoff is not None and claims["iat"] <= cutoff:
            raise InvalidToken("token revoked")
        return claims

    def remember_revocation(self, user_id, revoked_before):
        """Refuse this user's access tokens issued at or before `revoked_before`."""
        user_id, revoked_before = int(user_id), int(revoked_before)
        known = self.revoked_before.get(user_id)
        if known is None or revoked_before > known:
            self.revoked_before[user_id] = revoked_before

    def apply_revocation(self, revocation):
        """A revocation identity returned (password changed or reset): refused at once."""
        if revocation:
            self.remember_revocation(revocation["user_id"], revocation["revoked_before"])

    def forget_old_revocations(self, now=None):
        # a token issued before this has expired anyway
        horizon = (now or time.time()) - ACCESS_TOKEN_SECONDS - 60
        for user_id, cutoff in list(self.revoked_before.items()):
            if cutoff < horizon:
                self.revoked_before.pop(user_id, None)


class AccessTokens(DependencyProvider):
    """`access_tokens = AccessTokens()`: the container's TokenKeys."""

    def setup(self):
        self.state = TokenKeys()

    def get_dependency(self, worker_ctx):
        return self.state
