"""The kitchen display, the board, the staff login, and the JSON their
scripts read and write (events/pages.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from events import pages
from events.screens import screen_page
from users.models import ApiKeyKind

app_name = "pages"

urlpatterns = [
    path("", pages.home_page, name="home"),
    path("kitchen/", screen_page(pages.kitchen_page, kind=ApiKeyKind.KITCHEN), name="kitchen"),
    path("kitchen/state", pages.KitchenStateView.as_view(), name="kitchen-state"),
    path("kitchen/orders/<int:order_id>", pages.KitchenOrderView.as_view(), name="kitchen-order"),
    path("kitchen/orders/<int:order_id>/bump", pages.KitchenBumpView.as_view(), name="kitchen-bump"),
    path("kitchen/orders/<int:order_id>/recall", pages.KitchenRecallView.as_view(), name="kitchen-recall"),
    path("kitchen/orders/<int:order_id>/pickup", pages.KitchenPickupView.as_view(), name="kitchen-pickup"),
    path(
        "kitchen/orders/<int:order_id>/stations/<str:station_id>/done",
        pages.StationDoneView.as_view(),
        name="station-done",
    ),
    path(
        "kitchen/orders/<int:order_id>/stations/<str:station_id>/undo",
        pages.StationUndoView.as_view(),
        name="station-undo",
    ),
    path("display/", screen_page(pages.display_page, kind=ApiKeyKind.DISPLAY), name="display"),
    path("display/state", pages.DisplayStateView.as_view(), name="display-state"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="pages/login.html", next_page=reverse_lazy("pages:kitchen")),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("pages:login")), name="logout"),
]
