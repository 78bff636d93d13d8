from django.urls import path, re_path, register_converter
from rest_framework.routers import SimpleRouter

from orders import report_views, views


class OrderIdConverter:
    """An order id in a path: ASCII digits only (int() would also read "٣"
    or "²"), and at most 18 of them, so every match fits a 64-bit id. Any
    other path is no match, which is the JSON 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(OrderIdConverter, "order_id")

router = SimpleRouter(trailing_slash=False)
router.register("categories", views.CategoryViewSet, basename="category")
router.register("foods", views.FoodViewSet, basename="food")
router.register("ingredients", views.IngredientViewSet, basename="ingredient")
router.register("stations", views.StationViewSet, basename="station")
router.register("printers", views.PrinterViewSet, basename="printer")
router.register("cash-registers", views.CashRegisterViewSet, basename="cash-register")

urlpatterns = [
    path("orders", views.OrdersView.as_view(), name="orders"),
    path("orders/<order_id:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<order_id:order_id>/confirm", views.OrderConfirmView.as_view(), name="order-confirm"),
    path("orders/<order_id:order_id>/reprint", views.OrderReprintView.as_view(), name="order-reprint"),
    path(
        "orders/<order_id:order_id>/stations/<str:station_id>",
        views.OrderStationView.as_view(),
        name="order-station",
    ),
    # Any other order path ("abc", "٣", "-1", a number too long for an id)
    # names no order: the same 404 as a missing one, after authentication.
    re_path(r"^orders/[^/]+(?:/confirm|/reprint|/stations/[^/]+)?\Z", views.NoSuchOrderView.as_view()),
    path("reports", report_views.ReportsView.as_view(), name="reports"),
    path("reports/general-closure", report_views.GeneralClosureView.as_view(), name="general-closure"),
    *router.urls,
]
