"""The till, the waiter pad, and the pad's list of its own orders (till/views.py)."""

from django.urls import path

from till import views

app_name = "till"

urlpatterns = [
    path("till/", views.till_page, name="till"),
    path("waiter/", views.waiter_page, name="waiter"),
    path("waiter/orders", views.WaiterOrdersView.as_view(), name="waiter-orders"),
]
