"""Key delivery (SPEC section 6): the key never travels with the message.

``packages`` encrypts and sends a draft and stores its key held; ``release`` releases due
keys and mails each verified address a link (``mailer``, ``notices``); ``keypage`` and
``routes`` serve ``/k/<token>``, where a one-time code (``codes``) sent to that address
reveals the password; ``commands`` adds ``protect``, ``keys`` and ``worker`` to the CLI.
Nothing is imported here, so ``import service.delivery`` stays cheap.
"""
