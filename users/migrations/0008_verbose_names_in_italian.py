# Model names for the Italian admin (the idempotent requests' moved to the
# idempotency app with the model).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0007_idempotentrequest_moved'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='apikey',
            options={'ordering': ['name'], 'verbose_name': 'API key', 'verbose_name_plural': 'API keys'},
        ),
        migrations.AlterModelOptions(
            name='user',
            options={'verbose_name': 'staff member', 'verbose_name_plural': 'staff'},
        ),
    ]
