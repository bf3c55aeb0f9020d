"""Key delivery (SPEC section 6): the key never travels with the message.

``packages`` encrypts and sends a draft and stores its key held (``linkpackages``: link
mode's sealed files); ``release`` releases due keys and mails each verified address a link
(``notices``, through ``service.mailer``); ``keypage`` and ``routes`` serve ``/k/<token>``,
where a one-time code (``codes``) sent to that address reveals the password.
Nothing is imported here, so ``import service.delivery`` stays cheap.
"""
