"""What a sender must tick before "Send", recomputed on the server from the draft itself.

The confirmation card shows one checkbox per recipient (per domain when there are more than
:data:`TICK_EACH_LIMIT`), one per warning and a reason field per overridable finding code
(``[confirm] allow_override`` names codes, so one reason covers that code's findings). On
"Send" the draft is read and analysed again and the form is checked against *that* result,
never against what the client says it was shown: a recipient added meanwhile has no tick,
so nothing goes out unconfirmed.

"Encrypt & send" asks for the same ticks minus what encryption settles: the
``unencrypted_attachment`` findings (a warning, or a block under
``require_encryption_external``) do not apply to a message whose attachments are encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from service.addon.analysis import domain_groups, finding_key, fingerprint, valid_recipients
from service.policy.model import Finding, Severity

if TYPE_CHECKING:
    from service.addon.analysis import DomainGroup
    from service.addon.event import AddonEvent
    from service.policy.classifier import DomainClassifier
    from service.policy.policyfile import Policy
    from service.policy.rules import Report

TICK_EACH_LIMIT = 100     # above this many recipients, one tick per domain
MIN_REASON = 8            # characters of an override reason (Japanese is dense)
RECIPIENT_INPUT = "rcpt"  # prefix of every recipient checkbox list
ACK_INPUT = "ack"
OVERRIDE_INPUT = "override."
SETTLED_BY_ENCRYPTION = frozenset({"unencrypted_attachment"})


def recipient_value(address: str) -> str:
    return "r:" + address


def group_value(domain: str) -> str:
    return "d:" + domain


@dataclass
class Expectation:
    """Everything the sender must confirm for one analysis of one draft."""

    fingerprint: str
    groups: list[DomainGroup]
    grouped: bool                                   # one tick per domain, not per address
    ticks: dict[str, str] = field(default_factory=dict)          # value -> shown address
    acks: dict[str, Finding] = field(default_factory=dict)       # key -> warning
    overrides: dict[str, list[Finding]] = field(default_factory=dict)  # code -> its blocks
    blocked: list[Finding] = field(default_factory=list)         # cannot be sent as is

    @property
    def recipient_count(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def sendable(self) -> bool:
        return not self.blocked and self.recipient_count > 0


def expect(report: Report, policy: Policy, cls: DomainClassifier, *,
           encrypting: bool = False) -> Expectation:
    """What must be confirmed; ``encrypting``: for "Encrypt & send" (see module doc)."""
    groups = domain_groups(report.recipients, cls)
    count = len(valid_recipients(report.recipients))
    exp = Expectation(fingerprint(report), groups, grouped=count > TICK_EACH_LIMIT)
    for g in groups:
        if exp.grouped:
            exp.ticks[group_value(g.domain)] = g.domain
        else:
            for a in g.addresses:
                exp.ticks[recipient_value(a)] = a
    for f in report.findings:
        if encrypting and f.code in SETTLED_BY_ENCRYPTION:
            continue
        if f.severity is Severity.WARN:
            exp.acks[finding_key(f)] = f
        elif f.severity is Severity.BLOCK:
            if f.code in policy.allow_override:          # one reason per overridden code
                exp.overrides.setdefault(f.code, []).append(f)
            else:
                exp.blocked.append(f)
    return exp


@dataclass(frozen=True)
class Decision:
    ok: bool
    ticked: list[str]                  # recipient values confirmed
    acknowledged: list[str]            # finding codes acknowledged
    reasons: dict[str, str]            # finding code -> override reason
    missing_ticks: int = 0
    missing_acks: int = 0
    missing_reasons: int = 0


def decide(exp: Expectation, event: AddonEvent) -> Decision:
    """Whether the form covers everything ``exp`` demands."""
    ticked = event.inputs(RECIPIENT_INPUT)
    acked = event.inputs(ACK_INPUT)
    missing_ticks = [v for v in exp.ticks if v not in ticked]
    missing_acks = [k for k in exp.acks if k not in acked]
    reasons: dict[str, str] = {}
    missing_reasons = 0
    for code in exp.overrides:
        reason = " ".join(event.text_input(OVERRIDE_INPUT + code).split())
        if len(reason) >= MIN_REASON:
            reasons[code] = reason[:500]
        else:
            missing_reasons += 1
    ok = (exp.sendable and not missing_ticks and not missing_acks and not missing_reasons)
    return Decision(
        ok=ok,
        ticked=[exp.ticks[v] for v in exp.ticks if v in ticked],
        acknowledged=[exp.acks[k].code for k in exp.acks if k in acked],
        reasons=reasons,
        missing_ticks=len(missing_ticks),
        missing_acks=len(missing_acks),
        missing_reasons=missing_reasons,
    )
