#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except Exception:
        # A database that cannot be reached is one line (ops/startup.py);
        # anything else, or --traceback / STARTUP_TRACEBACK=1, as before.
        from ops.startup import database_problem, traceback_wanted

        problem = None if traceback_wanted(sys.argv) else database_problem()
        if problem is None:
            raise
        print(problem, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
