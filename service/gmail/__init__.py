"""Gmail: the adapter SendGuard sends through (production code).

``client`` (ApiGmailClient on google-api-python-client), ``drafts`` (find the draft being
composed), ``outgoing`` (the MIME sent), ``retry``, ``headers``, ``model``, ``discovery`` (the
API's discovery document the client is built from). The local emulator of the API is a dev
tool: ``service.devtools.gmail_emulator``. Nothing is imported here, so ``import
service.gmail`` stays cheap.
"""
