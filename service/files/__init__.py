"""Link mode (SPEC 10.3): attachments stored encrypted outside the message, downloaded
from the key page after the one-time code, erased on recall or expiry."""
