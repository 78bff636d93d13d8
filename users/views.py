from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView


class TokenView(TokenObtainPairView):
    """POST /auth/token {"username", "password"} → {"access", "refresh"}."""

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            return Response({"message": "Invalid username or password"}, status=status.HTTP_401_UNAUTHORIZED)


class TokenRefresh(TokenRefreshView):
    """POST /auth/token/refresh {"refresh"} → {"access"}."""
