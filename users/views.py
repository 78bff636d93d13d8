"""Sign-in endpoints. Every path that checks a password goes through
django.contrib.auth.authenticate() with the Django request, so that
django-axes (users/backends.py) throttles them all alike; AxesMiddleware then
answers a locked-out attempt with users.throttling.lockout_response."""

from django.conf import settings
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

from api.rest import ErrorSerializer, ValidationErrorSerializer
from users.authentication import LOGIN_COOKIES, signed_in_by_cookie
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
    """POST /auth/login {"username", "password"} → one body for both
    generations of clients: the user flat (`id`, `userId`, `username`,
    `role`: today's MySagra clients) and as `user`, with `accessToken` (the
    seed-era ones). The same token is set as the cookies `mysagra_session`
    and `mysagra_token` (HttpOnly, SameSite=Lax, for the token's lifetime),
    which today's clients forward (users.authentication.CookieAuthentication):
    one login, ended by one logout whichever way it is presented."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginSerializer,
        responses={
            200: inline_serializer(
                "Login",
                {
                    "id": serializers.CharField(),
                    "userId": serializers.CharField(),
                    "username": serializers.CharField(),
                    "role": serializers.CharField(),
                    "user": MeSerializer(),
                    "accessToken": serializers.CharField(),
                },
            ),
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
        token = login_access_token(user)
        me = MeSerializer(user).data
        body = {"id": me["id"], "userId": me["id"], "username": me["username"], "role": me["role"]}
        response = Response({**body, "user": me, "accessToken": str(token)})
        lifetime = settings.LOGIN_TOKEN_HOURS * 3600  # the token's own (login_access_token)
        for name in LOGIN_COOKIES:
            response.set_cookie(
                name,
                str(token),
                max_age=lifetime,
                path="/",
                secure=settings.LOGIN_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


class LogoutView(APIView):
    """POST /auth/logout: the login of this request ends, everywhere (REST
    and event streams): its Bearer token, the refresh token it came from
    and every token refreshed from that, the stream tokens minted under it;
    or its session, with the stream tokens minted under that. Signed in by
    the mysagra cookie (the same login token), the answer also clears both
    cookies."""

    permission_classes = [IsPerson]

    @extend_schema(request=None, responses={200: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, Token):
            token_revoke(token=request.auth, user=request.user)
        else:
            session_logout(request._request)
        response = Response({"message": "Signed out"})
        if signed_in_by_cookie(request):
            for name in LOGIN_COOKIES:
                response.delete_cookie(name, path="/", samesite="Lax")
        return response


class MeView(APIView):
    """GET /auth/me → {"id", "username", "role"} of the caller; for a device
    key: its device id, its name, and its kind as the role."""

    permission_classes = [IsSignedIn]
    api_key_access = {(kind, "GET") for kind in ApiKeyKind.values}

    @extend_schema(responses={200: MeSerializer, 401: ErrorSerializer, 403: ErrorSerializer})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)
