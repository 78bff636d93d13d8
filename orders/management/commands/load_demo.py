"""A small demo menu and staff accounts, for `make run`. Idempotent: running it
again keeps what is there, and never resets a password."""

import secrets
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from orders.models import CashRegister, Category, Food, Printer
from users.models import Role, User
from users.services import user_create

MENU = {
    ("Pizza", "Kitchen", 1): [("Margherita", "12.5"), ("Diavola", "14"), ("Quattro formaggi", "15.5")],
    ("Grill", "Kitchen", 2): [("Burger", "13"), ("Veggie burger", "12"), ("Fries", "4.5")],
    ("Drinks", "Bar", 3): [("Lemonade", "3.5"), ("Beer 0.4 l", "5"), ("Espresso", "2.2")],
    ("Desserts", None, 4): [("Tiramisu", "6"), ("Ice cream", "4")],
}
STAFF = [("admin", Role.ADMIN), ("cashier", Role.OPERATOR), ("waiter", Role.WAITER)]


class Command(BaseCommand):
    help = "Load a demo menu, printers, a cash register and staff accounts (admin, cashier, waiter)."

    @transaction.atomic
    def handle(self, *args, **options):
        printers = {
            name: Printer.objects.get_or_create(name=name, defaults={"ip": ip, "description": description})[0]
            for name, ip, description in [
                ("Kitchen", "127.0.0.1", "Hot kitchen ticket printer"),
                ("Bar", "127.0.0.1", "Bar ticket printer"),
            ]
        }
        CashRegister.objects.get_or_create(name="Till 1", defaults={"default_printer": printers["Bar"]})
        for (category_name, printer_name, position), foods in MENU.items():
            category, _ = Category.objects.get_or_create(
                name=category_name, defaults={"position": position, "printer": printers.get(printer_name)}
            )
            for food_name, price in foods:
                Food.objects.get_or_create(name=food_name, category=category, defaults={"price": Decimal(price)})

        created = []
        for username, role in STAFF:
            if not User.objects.filter(username=username).exists():
                password = secrets.token_urlsafe(9)
                user_create(username=username, role=role, password=password)
                created.append((username, role, password))
        credentials = Path(settings.VAR_DIR) / "demo-credentials.txt"
        if created:
            credentials.parent.mkdir(parents=True, exist_ok=True)
            with credentials.open("a") as out:
                for username, role, password in created:
                    out.write(f"{username}\t{role}\t{password}\n")
            credentials.chmod(0o600)
        self.stdout.write(f"Demo menu ready: {Food.objects.count()} foods in {Category.objects.count()} categories.")
        if credentials.exists():
            shown = (
                credentials.relative_to(settings.BASE_DIR)
                if credentials.is_relative_to(settings.BASE_DIR)
                else credentials
            )
            self.stdout.write(f"Staff accounts (username, role, password) are in {shown}:")
            self.stdout.write(credentials.read_text().rstrip())
