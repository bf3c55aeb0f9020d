"""Where the Gmail API answers; ``SENDGUARD_GMAIL_API_ENDPOINT`` points elsewhere (the local
emulator). A module of its own, importing nothing: settings and the client both need it,
and the client must not import settings (settings -> stamp -> gmail would close a loop)."""

GMAIL_API_ENDPOINT = "https://gmail.googleapis.com/"
