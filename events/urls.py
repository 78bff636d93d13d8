from django.urls import path

from events.access.views import StreamTokenView

# GET /events/{channel} itself is routed before Django, in config/asgi.py.
urlpatterns = [
    path("auth/stream-token", StreamTokenView.as_view(), name="stream-token"),
]
