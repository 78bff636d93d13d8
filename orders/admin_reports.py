"""The admin's page of a day's figures (API.md: "The admin shows the same
figures for a chosen day, with a chart of revenue over the evening") and the
list of closures. The figures come from orders.reports, the same builder as
GET /v1/reports, so the page and the API cannot disagree."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_date

from orders.charts import hourly_revenue_chart
from orders.models import Closure, DayReport
from orders.reports import build_reports, service_day_range
from orders.services import service_day
from users.models import Role

FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def _chosen_day(request: HttpRequest) -> tuple[date, str | None]:
    raw = request.GET.get("day", "")
    if not raw:
        return service_day(timezone.now()), None
    try:
        chosen = parse_date(raw)
    except ValueError:
        chosen = None
    # Bounded, so that the day's local start and end exist in UTC too.
    if chosen is None or not (FIRST_DAY <= chosen <= LAST_DAY):
        return service_day(timezone.now()), f"{raw!r} is not a date (YYYY-MM-DD); showing today."
    return chosen, None


def _is_admin(request: HttpRequest) -> bool:
    return bool(request.user.is_active and request.user.is_staff and request.user.has_role(Role.ADMIN))


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Nothing here is written through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(DayReport)
class DayReportAdmin(_ReadOnlyAdmin):
    """Not a list of rows: its page is the day's report. Only admins see it,
    as only they may read GET /v1/reports."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _is_admin(request)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        day, warning = _chosen_day(request)
        start, end = service_day_range(day)
        reports = build_reports(start=start, end=end, group_by="all")
        hourly = build_reports(start=start, end=end, group_by="1h")
        chart = hourly_revenue_chart(
            {datetime.fromisoformat(report["timestamp"]): Decimal(report["totalRevenue"]) for report in hourly}
        )
        report = reports[0] if reports else None
        completion = report and report["averageCompletionTime"]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Figures of {day:%A %d %B %Y}",
            "day": day,
            "start": start,
            "end": end,
            "report": report,
            "completion": f"{completion / 60:.1f} min" if completion is not None else "–",
            "chart": chart,
            "warning": warning,
            "closures": Closure.objects.filter(service_day=day).select_related("cash_register", "closed_by"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/orders/dayreport/report.html", context)


@admin.register(Closure)
class ClosureAdmin(_ReadOnlyAdmin):
    """Closures are facts: taken through the API, read here."""

    list_display = ("created_at", "service_day", "cash_register", "closed_by")
    list_filter = ("service_day", "cash_register")
    readonly_fields = ("id", "cash_register", "service_day", "closed_by", "created_at", "report")
