"""A local Gmail REST API for tests and ``make run`` (a dev tool; production never imports it).

``emulator`` (the HTTP server, scopes checked per method from the discovery document),
``mailbox`` (messages, drafts, threads), ``memory`` (InMemoryGmailClient: the adapter's
interface over a mailbox, for fast tests), ``compliance`` (the admin content-compliance rule),
``faults``, ``uploads``, ``validate``, ``search``, ``payload``, ``control``.
"""
