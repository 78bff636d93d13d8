"""Make existing rows satisfy the constraints that 0004 adds, so that it
applies to a database in use: a name that repeats another one whatever its
case (within its category, for foods) gets a number, "Water (2)", and a
printer port outside 1..65535 becomes 9100, the default. A migration of its
own, so the data changes commit before the tables are altered."""

from django.db import migrations

DEFAULT_PORT = 9100


def _number_repeated_names(model, scope: str | None) -> None:
    taken: set[tuple] = set()
    for row in model.objects.order_by("pk"):
        where = getattr(row, scope) if scope else None
        name = row.name
        number = 2
        while (where, name.lower()) in taken:
            suffix = f" ({number})"
            name = row.name[: 100 - len(suffix)] + suffix
            number += 1
        if name != row.name:
            row.name = name
            row.save(update_fields=["name"])
        taken.add((where, name.lower()))


def make_existing_rows_valid(apps, schema_editor):
    for model_name, scope in (("Category", None), ("Printer", None), ("CashRegister", None), ("Food", "category_id")):
        _number_repeated_names(apps.get_model("orders", model_name), scope)
    printer = apps.get_model("orders", "Printer")
    printer.objects.exclude(port__gte=1, port__lte=65535).update(port=DEFAULT_PORT)


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_initial")]

    operations = [migrations.RunPython(make_existing_rows_valid, migrations.RunPython.noop)]
