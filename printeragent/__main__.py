from printeragent.cli import main

raise SystemExit(main())
