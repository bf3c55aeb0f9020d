"""Development-only helpers (local token issuer, certificate server).

They let tests and ``make run`` exercise the real verification path without Google. Every
entry point refuses to run when the configuration is production.
"""
