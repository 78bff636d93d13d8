# The maintainer role (cookies) and the kitchen role (italian) were added
# side by side; the role field's choices hold both.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('users', '0004_role_maintainer'),
        ('users', '0005_kitchen_screen_key'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='role',
            field=models.CharField(choices=[('admin', 'Admin'), ('operator', 'Operator (cashier)'), ('maintainer', 'Maintainer (operator, closures, printer agent)'), ('waiter', 'Waiter'), ('kitchen', 'Kitchen (cook)')], default='waiter', max_length=16),
        ),
    ]
