from django.core.management.base import BaseCommand, CommandError

from users.apikeys import ApiKeyError, create_key
from users.models import ApiKeyKind


class Command(BaseCommand):
    help = "Create an API key for a device and print it (the only time it is shown)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the device the key is for")
        parser.add_argument("--kind", required=True, help=f"one of {', '.join(ApiKeyKind.values)}")

    def handle(self, *args, name: str, kind: str, **options):
        try:
            key, raw = create_key(name=name, kind=kind)
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stderr.write(f"Created {key.kind} key {key.name!r} (prefix {key.prefix}). It is not shown again:")
        self.stdout.write(raw)
