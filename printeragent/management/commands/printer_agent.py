"""`python manage.py printer_agent --url URL --key KEY`: the printer agent
(printeragent/cli.py, also `python -m printeragent`) run from the project's
checkout. It uses nothing of the project's database or settings."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from printeragent.cli import DESCRIPTION, SetupError, add_arguments, serve, start


class Command(BaseCommand):
    help = DESCRIPTION

    def add_arguments(self, parser) -> None:
        add_arguments(parser)

    def handle(self, *args, url: str, key: str, state: str, **options) -> None:
        try:
            agent = start(url, key, state)
        except SetupError as exc:
            raise CommandError(str(exc)) from None
        serve(agent, url, state, self.stdout)
