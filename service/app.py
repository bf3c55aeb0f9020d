"""Flask app factory: ``create_app(config)`` builds the service; nothing happens at import."""

from __future__ import annotations

from flask import Flask

from service.services import Services
from service.settings import Config


def create_app(config: Config | None = None, *, services: Services | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask("service")
    app.config.update(MAX_CONTENT_LENGTH=2 * 1024 * 1024, JSON_SORT_KEYS=False)
    svc = services or Services(config)
    svc.init_app(app)
    if config.production:
        _ = svc.policy   # read before the first request: never serve on a broken policy

    import service.addon.errors as addon_errors
    import service.delivery.routes as delivery_routes
    from service import health, logs, request_locale
    from service.addon.routes import bp as addon_bp

    logs.init_app(app)
    request_locale.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(addon_bp)
    delivery_routes.init_app(app)     # /k/<token> and /tasks/release-due
    addon_errors.init_app(app)
    return app
