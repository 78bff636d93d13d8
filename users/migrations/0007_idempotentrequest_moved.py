# IdempotentRequest moved to the idempotency app (idempotency.0001 takes it
# over in Django's state); its table and rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0006_maintainer_and_kitchen_roles"),
        ("idempotency", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotentRequest")],
            database_operations=[],
        ),
    ]
