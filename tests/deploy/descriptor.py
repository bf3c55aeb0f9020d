"""The add-on deployment descriptor, parsed with Google's own ``Deployment`` message.

``google-cloud-gsuiteaddons`` publishes the ``projects.deployments`` resource as a proto;
``Deployment.from_json(..., ignore_unknown_fields=False)`` refuses a misspelt or invented
field as the API would. One documented field is missing from the published proto (0.5.2):
``addOns.httpOptions.granularOauthPermissionSupport``, which Google's HTTP add-on guide and
its own samples (googleworkspace/add-ons-samples, python/travel-adk-ai-agent) set to
``"OPT_IN"``. It is checked here by name and value and removed before the proto parses
the rest, so nothing else unknown can pass.

Also runnable: ``python descriptor.py FILE`` exits 1 with the parse error (the fake gcloud
uses it).
"""

from __future__ import annotations

import json
import sys
from typing import Any

# path -> values Google documents for it, for fields absent from the published proto
DOCUMENTED_NOT_IN_PROTO: dict[tuple[str, ...], tuple[str, ...]] = {
    ("addOns", "httpOptions", "granularOauthPermissionSupport"): ("OPT_IN", "OPT_OUT"),
}


class DescriptorError(ValueError):
    pass


def _strip_documented(data: Any) -> None:
    for path, allowed in DOCUMENTED_NOT_IN_PROTO.items():
        node = data
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            value = node.pop(path[-1])
            if value not in allowed:
                raise DescriptorError(f"{'.'.join(path)}: {value!r} is not one of {allowed}")


def parse_descriptor(text: str) -> Any:
    """The descriptor as a ``google.cloud.gsuiteaddons_v1.types.Deployment``;
    ``DescriptorError`` for JSON that is not one."""
    from google.cloud.gsuiteaddons_v1.types import Deployment

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DescriptorError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise DescriptorError("a deployment is a JSON object")
    _strip_documented(data)
    try:
        return Deployment.from_json(json.dumps(data), ignore_unknown_fields=False)
    except Exception as exc:       # json_format.ParseError and friends
        raise DescriptorError(f"does not parse as Deployment: {exc}") from None


def main(argv: list[str]) -> int:
    try:
        with open(argv[0], encoding="utf-8") as f:
            parse_descriptor(f.read())
    except (OSError, IndexError, DescriptorError) as exc:
        print(f"ERROR: (gcloud.workspace-add-ons.deployments) INVALID_ARGUMENT: {exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
