from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database's content with a backup of `manage.py backup`. Stop the server first."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a file written by manage.py backup")

    def handle(self, *args, path, **options):
        try:
            restore(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {path}")
