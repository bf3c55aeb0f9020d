"""The signed stamp on what SendGuard sends (SPEC 10.5).

Gmail gives add-ons no hook on its own Send button; an admin content compliance rule on
the ``X-SendGuard-Checked`` header closes that gap, and this package makes the header
worth trusting: an HMAC over who sent what to whom, minted into the exact bytes of the
``drafts.send`` request (``header``), keys with rotation (``keys``), classification of
messages found later in a Vault export or audit mailbox (``verify``, ``mailfile``) and
the ``sendguard stamp`` / ``sendguard audit bypasses`` commands (``commands``).
Everything here but ``commands`` and ``keys.load_or_create`` is pure: the clock and the
nonce are passed in.
"""
