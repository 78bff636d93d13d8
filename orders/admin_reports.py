"""The admin's page of a day's figures (API.md: "The admin shows the same
figures for a chosen day, with a chart of revenue over the evening") and the
list of closures. The figures come from orders.reports, the same builder as
GET /v1/reports, so the page and the API cannot disagree."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from orders import services
from orders.charts import hourly_revenue_chart
from orders.exceptions import NotFound
from orders.models import CashRegister, Closure, DayReport
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


def _may_close(request: HttpRequest) -> bool:
    """Who may take the day's closure: as POST /v1/reports/general-closure
    for the staff of the admin, admins and maintainers."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.has_role(Role.ADMIN, Role.MAINTAINER))


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
    """Closures are facts: taken with the "Close the day" button (or the
    API), through the same service, then read and printed here."""

    list_display = ("created_at", "service_day", "cash_register", "closed_by")
    list_filter = ("service_day", "cash_register")
    readonly_fields = ("id", "cash_register", "service_day", "closed_by", "created_at", "report")
    change_list_template = "admin/orders/closure/change_list.html"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may_close(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _may_close(request)

    def get_urls(self):
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        return [
            path("close/", self.admin_site.admin_view(self.close_view), name=f"{name}_close"),
            path("<path:object_id>/report/", self.admin_site.admin_view(self.report_view), name=f"{name}_report"),
            *super().get_urls(),
        ]

    def close_view(self, request: HttpRequest):
        """GET: the till to close at; POST: the closure, through the service,
        then its printable report."""
        if not _may_close(request):
            raise PermissionDenied
        error = None
        if request.method == "POST":
            try:
                closure = services.general_closure_create(
                    cash_register_id=request.POST.get("cash_register", ""), by=request.user
                )
            except NotFound:
                error = _("Choose a cash register.")
            else:
                messages.success(request, _("The day is closed: here is its report to print."))
                return HttpResponseRedirect(reverse("admin:orders_closure_report", args=[closure.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Close the day"),
            "registers": CashRegister.objects.order_by("name"),
            "error": error,
        }
        return TemplateResponse(request, "admin/orders/closure/close.html", context, status=400 if error else 200)

    def report_view(self, request: HttpRequest, object_id: str):
        if not _may_close(request):
            raise PermissionDenied
        closure = get_object_or_404(Closure.objects.select_related("cash_register", "closed_by"), pk=object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Closure of {day}").format(day=closure.service_day.isoformat()),
            "closure": closure,
            "report": closure.report[0] if closure.report else None,
        }
        return TemplateResponse(request, "admin/orders/closure/report.html", context)
