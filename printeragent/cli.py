"""`python -m printeragent --url URL --key KEY [--state FILE]`: the reference
printer agent's front door. It needs no database and no Django settings: only
the server's URL, a printer-agent API key and a journal file, so it runs on
any machine of the festival's LAN. `manage.py printer_agent` (the thin
command in printeragent/management/) calls the same functions.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import TextIO

from printeragent.agent import Agent
from printeragent.client import Server

DESCRIPTION = "Print kitchen tickets, receipts, cancellation slips and closures from /events/printer."


class SetupError(Exception):
    """A URL or a journal the agent cannot start with: a person must look."""


def add_arguments(parser) -> None:
    parser.add_argument("--url", required=True, help="The server, e.g. http://192.168.1.10:8000")
    parser.add_argument("--key", required=True, help="A printer-agent API key (createapikey NAME --kind printer-agent)")
    parser.add_argument(
        "--state",
        default="printer-agent-state.json",
        help="Journal of the last event printed; keep it on a disk that survives a restart.",
    )


def start(url: str, key: str, state: str) -> Agent:
    """The agent for this server and journal, or SetupError saying why not."""
    try:
        server = Server(url, key)
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    try:
        return Agent(server, Path(state))
    except RuntimeError as exc:  # an unreadable journal
        raise SetupError(str(exc)) from None


def serve(agent: Agent, url: str, state: str, out: TextIO) -> None:
    """Prints until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
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
    out.write(f"printer agent listening to {url}/events/printer (state in {state})\n")
    out.flush()
    agent.run(should_stop=lambda: bool(stopping))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m printeragent", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        agent = start(args.url, args.key, args.state)
    except SetupError as exc:
        parser.error(str(exc))  # exits with status 2
    serve(agent, args.url, args.state, sys.stdout)
    return 0
