"""``python -m service`` is the ``sendguard`` command."""

from service.cli import main

raise SystemExit(main())
