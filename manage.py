#!/usr/bin/env python
import os
import sys

# Commands that need the database at once: checked before they run, so that
# an unreachable one is one line (ops/startup.py) instead of the pool's
# retries and a traceback. --traceback or STARTUP_TRACEBACK=1 shows it all.
DATABASE_COMMANDS = {
    "migrate",
    "runserver",
    "load_demo",
    "createuser",
    "createapikey",
    "createsuperuser",
    "changepassword",
    "loaddata",
    "dumpdata",
    "flush",
    "backup",
    "restore",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in DATABASE_COMMANDS:
        import django

        django.setup()
        from ops.startup import database_problem, traceback_wanted

        problem = None if traceback_wanted(sys.argv) else database_problem()
        if problem is not None:
            print(problem, file=sys.stderr)
            sys.exit(1)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
