"""The project's URLs as they were before issue 21's transport work, for
bench/unread_responses.py: drf-spectacular's own schema view at
/docs/schema/ (a build per request), and GET /v1/orders pages of `limit`
orders built as a DRF Response, with no byte bound and no limit on builds
at once."""

import math

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

from config.urls import urlpatterns as project_urlpatterns
from orders import selectors
from orders.representations import order_rest_repr
from orders.serializers import OrderListQuerySerializer
from orders.views import OrdersView, _query, _validated


class BeforeOrdersView(OrdersView):
    def get(self, request):
        params = _validated(OrderListQuerySerializer, _query(request, repeatable=("status",)))
        orders = selectors.order_list(selectors.OrderFilters(sort_by=params["sortBy"], search=params["search"]))
        total = orders.count()
        page, limit = params["page"], params["limit"]
        offset = (page - 1) * limit
        rows = orders[offset : offset + limit] if offset < total else []
        return Response(
            {
                "data": [order_rest_repr(order) for order in rows],
                "pagination": {"totalItems": total, "currentPage": page, "totalPages": math.ceil(total / limit)},
            }
        )


urlpatterns = [
    path("docs/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/orders", BeforeOrdersView.as_view()),
    *(pattern for pattern in project_urlpatterns if getattr(pattern, "name", None) != "schema"),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
