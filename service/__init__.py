"""SendGuard: catches e-mail misdelivery before it leaves Gmail.

The package is import-safe: nothing is built at import time. Use
``service.app.create_app(config)`` for the web service and ``service.commands.main`` for the
``sendguard`` command.
"""

__version__ = "0.1.0"
