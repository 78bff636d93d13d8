"""A small demo menu and staff accounts, for a first `make run`.

Invariants:
- Without --add, the demo goes only into an empty database: the menu only
  when there is no printer, category, food or cash register yet, the staff
  accounts only when there is no user. So `make run` can be repeated: a demo
  food the organiser deleted stays deleted, and the demo's printers never
  sit beside the organiser's own.
- With --add (`make demo`), whatever of the demo is missing is added on
  purpose; nothing that exists is changed, and no password is ever reset.
- A password is printed once, when its account is made (and appended to
  var/demo-credentials.txt, readable by its owner only); later runs print
  none.
"""

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
PRINTERS = [("Kitchen", "127.0.0.1", "Hot kitchen ticket printer"), ("Bar", "127.0.0.1", "Bar ticket printer")]
STAFF = [("admin", Role.ADMIN), ("cashier", Role.OPERATOR), ("waiter", Role.WAITER)]


def menu_is_empty() -> bool:
    return not any(model.objects.exists() for model in (Printer, Category, Food, CashRegister))


def load_menu() -> int:
    """The demo menu, what is missing of it; the number of foods made."""
    printers = {
        name: Printer.objects.get_or_create(name=name, defaults={"ip": ip, "description": description})[0]
        for name, ip, description in PRINTERS
    }
    CashRegister.objects.get_or_create(name="Till 1", defaults={"default_printer": printers["Bar"]})
    made = 0
    for (category_name, printer_name, position), foods in MENU.items():
        category, _ = Category.objects.get_or_create(
            name=category_name, defaults={"position": position, "printer": printers.get(printer_name)}
        )
        for food_name, price in foods:
            made += Food.objects.get_or_create(name=food_name, category=category, defaults={"price": Decimal(price)})[1]
    return made


def load_staff() -> list[tuple[str, str, str]]:
    """The demo accounts that do not exist yet: (username, role, password) of each made."""
    created = []
    for username, role in STAFF:
        if not User.objects.filter(username=username).exists():
            password = secrets.token_urlsafe(9)
            user_create(username=username, role=role, password=password)
            created.append((username, role, password))
    return created


class Command(BaseCommand):
    help = (
        "Load a demo menu (printers, a cash register, foods) and staff accounts (admin, cashier, waiter) "
        "into an empty database; --add adds what is missing of them to any database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--add", action="store_true", help="add what is missing of the demo even when the database has data"
        )

    @transaction.atomic
    def handle(self, *args, add: bool = False, **options):
        if add or menu_is_empty():
            made = load_menu()
            self.stdout.write(f"Demo menu: {made} foods added.")
        else:
            self.stdout.write("The menu has data: no demo menu added (`make demo` adds it on purpose).")
        created = load_staff() if add or not User.objects.exists() else []
        if not created:
            return
        credentials = Path(settings.VAR_DIR) / "demo-credentials.txt"
        credentials.parent.mkdir(parents=True, exist_ok=True)
        with credentials.open("a") as out:
            for username, role, password in created:
                out.write(f"{username}\t{role}\t{password}\n")
        credentials.chmod(0o600)
        self.stdout.write(f"Staff accounts made (username, role, password), shown this once and kept in {credentials}:")
        for username, role, password in created:
            self.stdout.write(f"{username}\t{role}\t{password}")
