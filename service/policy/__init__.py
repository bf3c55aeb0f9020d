"""Pure analysis of a draft (SPEC section 2): no Flask, network or database here.

    from service.policy import analyze, load_policy, draft_from_bytes
    report = analyze(draft_from_bytes(raw), load_policy("policy.toml"), locale="ja")

Names are imported lazily so importing one submodule does not load them all.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Attachment": "model", "Draft": "model", "Finding": "model", "Severity": "model",
    "Policy": "policyfile", "load_policy": "policyfile", "parse_policy": "policyfile",
    "draft_from_bytes": "mimeparse", "Report": "rules", "analyze": "rules",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"service.policy.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
