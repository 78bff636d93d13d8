"""Bearer authentication with every check a token must pass (see
users/tokens.py for the invariant). Listed first in
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]; the events endpoint loads it
from there, so a stream is opened under exactly the rules of a REST call.

Device keys (X-API-KEY) are another class in the same list."""

from __future__ import annotations

from django.db.models import Exists
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import Token

from users.tokens import password_digest_matches, token_ids


class BearerAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
            ids = token_ids(validated_token)
        except KeyError:
            raise InvalidToken("Token contained no recognizable user identification") from None
        # One query: the user row, and whether this very token or its login
        # was revoked (logout), via the blacklist's unique index on jti.
        revoked = BlacklistedToken.objects.filter(token__jti__in=ids)
        user = (
            self.user_model.objects.annotate(token_revoked=Exists(revoked))
            .filter(**{api_settings.USER_ID_FIELD: user_id})
            .first()
        )
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if user.token_revoked:
            raise AuthenticationFailed("Token was revoked", code="token_revoked")
        if not password_digest_matches(validated_token, user):
            raise AuthenticationFailed("The user's password has been changed", code="password_changed")
        return user
