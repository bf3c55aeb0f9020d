"""Attachment encryption (AES-256 ZIP) and key wrapping for stored passwords.

Import the modules directly: ``service.protect.mime.protect_message``,
``service.protect.archive.encrypt_files``, ``service.protect.password.generate_password``,
``service.protect.keywrap.wrapper_from_config``.
"""
