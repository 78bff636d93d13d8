"""Sign-in endpoints. Every path that checks a password goes through
django.contrib.auth.authenticate() with the Django request, so that
django-axes (users/backends.py) throttles them all alike; AxesMiddleware then
answers a locked-out attempt with users.throttling.lockout_response."""

from django.contrib.auth import authenticate
from django.contrib.auth import logout as session_logout
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from config.api import ErrorSerializer, ValidationErrorSerializer
from users.models import ApiKeyKind
from users.permissions import IsPerson, IsSignedIn
from users.serializers import LoginSerializer, MeSerializer, RefreshSerializer, TokenPairSerializer
from users.tokens import login_access_token, token_revoke

BAD_CREDENTIALS = {"message": "Invalid username or password"}


class TokenView(TokenObtainPairView):
    """POST /auth/token {"username", "password"} → {"access", "refresh"}."""

    serializer_class = TokenPairSerializer

    def get_serializer_context(self):
        # simplejwt authenticates with this request: the Django one, so that
        # axes can mark it as locked out for its middleware.
        return {**super().get_serializer_context(), "request": self.request._request}

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            return Response(BAD_CREDENTIALS, status=status.HTTP_401_UNAUTHORIZED)


class TokenRefresh(TokenRefreshView):
    """POST /auth/token/refresh {"refresh"} → {"access", "refresh"}: the used
    refresh token is refused from then on (rotation)."""

    serializer_class = RefreshSerializer


class LoginView(APIView):
    """POST /auth/login {"username", "password"} → {"user", "accessToken"}."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginSerializer,
        responses={
            200: inline_serializer("Login", {"user": MeSerializer(), "accessToken": serializers.CharField()}),
            400: ValidationErrorSerializer,
            401: ErrorSerializer,
            413: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            return Response(BAD_CREDENTIALS, status=status.HTTP_401_UNAUTHORIZED)
        return Response({"user": MeSerializer(user).data, "accessToken": str(login_access_token(user))})


class LogoutView(APIView):
    """POST /auth/logout: the login of this request ends, everywhere (REST
    and event streams): its Bearer token, the refresh token it came from
    and every token refreshed from that, the stream tokens minted under it;
    or its session, with the stream tokens minted under that."""

    permission_classes = [IsPerson]

    @extend_schema(request=None, responses={200: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            token_revoke(token=request.auth, user=request.user)
        else:
            session_logout(request._request)
        return Response({"message": "Signed out"})


class MeView(APIView):
    """GET /auth/me → {"id", "username", "role"} of the caller; for a device
    key: its device id, its name, and its kind as the role."""

    permission_classes = [IsSignedIn]
    api_key_access = {(kind, "GET") for kind in ApiKeyKind.values}

    @extend_schema(responses={200: MeSerializer, 401: ErrorSerializer, 403: ErrorSerializer})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
