"""Suite-wide: a text that cannot be rendered fails the test (``service.i18n``), in this
process and in every subprocess the tests start (the CLI, the dev server, the pool)."""

from __future__ import annotations

import os

from service.i18n import STRICT_ENV

os.environ[STRICT_ENV] = "1"
