from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from users.tokens import login_id_of, login_refresh_token, password_digest_matches, revoked_jtis


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class MeSerializer(serializers.Serializer):
    """{"id", "username", "role"}: who the caller is, as the SPAs read it."""

    id = serializers.CharField()
    username = serializers.CharField()
    role = serializers.CharField(source="effective_role")


class TokenPairSerializer(TokenObtainPairSerializer):
    """simplejwt's sign-in, whose refresh token starts a login (users/tokens.py)."""

    @classmethod
    def get_token(cls, user):
        return login_refresh_token(user)


class RefreshSerializer(TokenRefreshSerializer):
    """simplejwt's refresh (rotating, blacklisting the used token), which
    also refuses a token whose login was logged out, or whose user is gone,
    inactive, or has changed their password since it was issued."""

    @transaction.atomic
    def validate(self, attrs):
        refresh = RefreshToken(attrs["refresh"])  # signature, expiry, blacklist
        # Two refreshes racing with one token: the second waits for this row
        # lock, then finds the token blacklisted by the first (on SQLite the
        # IMMEDIATE transaction serializes them the same way).
        OutstandingToken.objects.select_for_update().filter(jti=refresh[api_settings.JTI_CLAIM]).first()
        refresh.check_blacklist()
        if revoked_jtis({login_id_of(refresh)}):
            raise AuthenticationFailed("This refresh token is no longer valid")
        user = get_user_model().objects.filter(pk=refresh.get(api_settings.USER_ID_CLAIM)).first()
        if user is None or not user.is_active or not password_digest_matches(refresh, user):
            raise AuthenticationFailed("This refresh token is no longer valid")
        return super().validate(attrs)
