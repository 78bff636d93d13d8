from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.access.tokens import stream_token_for
from users.permissions import IsStaffMember
from users.tokens import request_login_id


class StreamTokenView(APIView):
    """POST /auth/stream-token (Bearer) → {"token", "expiresIn"}: a token for
    `?token=` on /events/{channel}, good for opening streams only, and only
    as long as the login it is minted under (the caller's token or session)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "StreamToken", {"token": serializers.CharField(), "expiresIn": serializers.IntegerField()}
            )
        },
    )
    def post(self, request: Request) -> Response:
        token = stream_token_for(request.user, login_id=request_login_id(request))
        return Response({"token": token, "expiresIn": settings.EVENTS_STREAM_TOKEN_SECONDS})
