from django.core.management.base import BaseCommand, CommandError

from ops.backups import BackupError, backup, default_path


class Command(BaseCommand):
    help = "Back the database up while the server runs (SQLite: its backup API; PostgreSQL: pg_dump)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="where to write it (default: VAR_DIR/backups/db-<UTC time>.<kind>)")

    def handle(self, *args, output=None, **options):
        try:
            written = backup(output or default_path())
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(written))
