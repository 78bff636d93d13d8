"""`python manage.py printer_agent --url URL --key KEY`: the reference printer
agent (printeragent package). It uses nothing of this project's database or
settings: only the server's URL and a printer-agent API key."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from printeragent.agent import Agent
from printeragent.client import Server


class Command(BaseCommand):
    help = "Print kitchen tickets, receipts, cancellation slips and closures from /events/printer."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", required=True, help="The server, e.g. http://192.168.1.10:8000")
        parser.add_argument(
            "--key", required=True, help="A printer-agent API key (createapikey NAME --kind printer-agent)"
        )
        parser.add_argument(
            "--state",
            default="printer-agent-state.json",
            help="Journal of the last event printed; keep it on a disk that survives a restart.",
        )

    def handle(self, *args, url: str, key: str, state: str, **options) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        try:
            server = Server(url, key)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            agent = Agent(server, Path(state))
        except RuntimeError as exc:  # an unreadable journal: a person must look
            raise CommandError(str(exc)) from None
        stopping = []

        def stop(signum, frame) -> None:
            # Between events, stop at once; while an event is being queued,
            # finish queuing it. Either way each printer then finishes the
            # ticket in hand (Agent.run), so that no ticket is left in doubt.
            stopping.append(signum)
            if not agent.busy:
                raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        agent.refresh_directory()
        agent.probe_printers()
        self.stdout.write(f"printer agent listening to {url}/events/printer (state in {state})")
        agent.run(should_stop=lambda: bool(stopping))
