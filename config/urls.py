from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from api.schema_view import SchemaView
from ops import exposition, health
from users.views import LoginView, LogoutView, MeView, TokenRefresh, TokenView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", exposition.metrics, name="metrics"),
    path("auth/token", TokenView.as_view(), name="token"),
    path("auth/token/refresh", TokenRefresh.as_view(), name="token-refresh"),
    path("auth/login", LoginView.as_view(), name="login"),
    path("auth/logout", LogoutView.as_view(), name="logout"),
    path("auth/me", MeView.as_view(), name="me"),
    path("", include("events.urls")),
    path("v1/", include("orders.urls")),
    path("docs/schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("", include("till.urls")),
    path("", include("screens.urls")),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
