"""``python -m procflow`` runs the command line."""

from procflow.cli import main

raise SystemExit(main())
