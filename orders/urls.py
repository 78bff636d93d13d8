from django.urls import path
from rest_framework.routers import SimpleRouter

from orders import report_views, views

router = SimpleRouter(trailing_slash=False)
router.register("categories", views.CategoryViewSet, basename="category")
router.register("foods", views.FoodViewSet, basename="food")
router.register("printers", views.PrinterViewSet, basename="printer")
router.register("cash-registers", views.CashRegisterViewSet, basename="cash-register")

urlpatterns = [
    path("orders", views.OrdersView.as_view(), name="orders"),
    path("orders/<str:order_id>", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<str:order_id>/confirm", views.OrderConfirmView.as_view(), name="order-confirm"),
    path("orders/<str:order_id>/reprint", views.OrderReprintView.as_view(), name="order-reprint"),
    path("reports", report_views.ReportsView.as_view(), name="reports"),
    path("reports/general-closure", report_views.GeneralClosureView.as_view(), name="general-closure"),
    *router.urls,
]
