"""The kitchen display, the board, the staff login, and the JSON their
scripts read and write (screens/views.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from screens import views
from screens.keys import screen_page
from users.models import ApiKeyKind

app_name = "pages"

urlpatterns = [
    path("", views.home_page, name="home"),
    path("kitchen/", screen_page(views.kitchen_page, kind=ApiKeyKind.KITCHEN), name="kitchen"),
    path("kitchen/state", views.KitchenStateView.as_view(), name="kitchen-state"),
    path("kitchen/orders/<int:order_id>", views.KitchenOrderView.as_view(), name="kitchen-order"),
    path("kitchen/orders/<int:order_id>/bump", views.KitchenBumpView.as_view(), name="kitchen-bump"),
    path("kitchen/orders/<int:order_id>/recall", views.KitchenRecallView.as_view(), name="kitchen-recall"),
    path("kitchen/orders/<int:order_id>/pickup", views.KitchenPickupView.as_view(), name="kitchen-pickup"),
    path(
        "kitchen/orders/<int:order_id>/stations/<str:station_id>/done",
        views.StationDoneView.as_view(),
        name="station-done",
    ),
    path(
        "kitchen/orders/<int:order_id>/stations/<str:station_id>/undo",
        views.StationUndoView.as_view(),
        name="station-undo",
    ),
    path("display/", screen_page(views.display_page, kind=ApiKeyKind.DISPLAY), name="display"),
    path("display/state", views.DisplayStateView.as_view(), name="display-state"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="pages/login.html", next_page=reverse_lazy("pages:kitchen")),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page=reverse_lazy("pages:login")), name="logout"),
]
