"""python -m monitor runs the CLI."""

from monitor.cli import main

raise SystemExit(main())
