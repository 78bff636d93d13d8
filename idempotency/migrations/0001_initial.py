# The model moved here from the users app with its table and rows: this
# migration only tells Django's state that it is here now; the table
# users_idempotentrequest stays as users.0003 created it.

import django.core.serializers.json
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("users", "0006_maintainer_and_kitchen_roles"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotentRequest",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("caller", models.CharField(max_length=80)),
                        ("key", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("status_code", models.PositiveSmallIntegerField(null=True)),
                        (
                            "response_body",
                            models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder, null=True),
                        ),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                    options={
                        "db_table": "users_idempotentrequest",
                        "constraints": [
                            models.UniqueConstraint(fields=("caller", "key"), name="idempotency_one_write_per_key")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
