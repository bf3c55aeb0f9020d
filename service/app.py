"""Flask app factory: ``create_app(config)`` builds the service; nothing happens at import."""

from __future__ import annotations

from flask import Flask

from service.config import Config
from service.services import Services


def create_app(config: Config | None = None, *, services: Services | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask("service")
    app.config.update(MAX_CONTENT_LENGTH=2 * 1024 * 1024, JSON_SORT_KEYS=False)
    (services or Services(config)).init_app(app)

    import service.addon.errors as addon_errors
    from service import health, logs
    from service.addon.routes import bp as addon_bp

    logs.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(addon_bp)
    addon_errors.init_app(app)
    _register_optional(app)
    return app


def _register_optional(app: Flask) -> None:
    """Blueprints of areas that may not be installed in this build yet."""
    import importlib

    for module in ("service.delivery.routes", "service.devtools.simulator"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.init_app(app)
