from django.core.management.base import BaseCommand, CommandError

from users.models import Role
from users.services import UserCreateError, user_create


class Command(BaseCommand):
    help = "Create a staff user non-interactively."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help=f"one of {', '.join(Role.values)}")
        parser.add_argument("--password", required=True)

    def handle(self, *args, username: str, role: str, password: str, **options):
        try:
            user = user_create(username=username, role=role, password=password)
        except UserCreateError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Created {user.role} {user.username!r} (id {user.id}).")
