"""Gmail: the adapter SendGuard sends through, and a local emulator of the API it uses.

``client`` (ApiGmailClient on google-api-python-client), ``memory`` (InMemoryGmailClient),
``drafts`` (find the draft being composed), ``emulator`` (the local Gmail REST server).
Nothing is imported here, so ``import service.gmail`` stays cheap.
"""
