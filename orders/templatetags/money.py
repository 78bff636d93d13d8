"""{{ amount|money }}: an amount in the active language's format with €
(orders.money.display_money), for pages; the API keeps its wire format."""

from django import template
from django.utils.translation import get_language

from orders.money import display_money

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    return display_money(value, get_language() or "it")
