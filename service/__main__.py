"""``python -m service`` is the ``sendguard`` command."""

from service.commands.main import main

raise SystemExit(main())
