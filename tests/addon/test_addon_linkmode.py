"""Encrypt & send in link mode (issue 15), over HTTP against the Gmail emulator: the key
card offers "ZIP" or "link" (default from the policy's ``delivery.method``); with link,
the message that goes out (through ``final_message``, exactly the checked bytes) has no
attachment and a note naming the files; the files are stored sealed and the key record
holds their manifest. A forged method is refused and nothing is sent."""

from __future__ import annotations

import functools
import hashlib
from email import message_from_bytes
from email import policy as email_policy
from typing import Any

import pytest

from service.delivery.linkpackages import open_manifest
from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.files.crypt import decrypt_range, file_key
from service.files.manifest import LINK_ZIP_NAME

from .apis import ClientApi
from .conftest import MakeApp
from .support import POLICY, SENDER, Events, buttons
from .test_addon_encrypt import (
    ENCRYPT,
    FILES,
    PARTNER,
    draft,
    key_card,
    press,
    store_of,
    texts,
    ticks,
)

LINK_POLICY = POLICY + '[delivery]\nmethod = "link"\n'


def method_input(card: dict[str, Any]) -> dict[str, Any]:
    found = [w["selectionInput"] for s in card["sections"] for w in s.get("widgets", [])
             if w.get("selectionInput", {}).get("name") == "delivery_method"]
    assert len(found) == 1 and isinstance(found[0], dict)
    return found[0]


@pytest.mark.parametrize(("policy", "default"), [(POLICY, "zip"), (LINK_POLICY, "link")],
                         ids=["policy zip", "policy link"])
def test_key_card_offers_both_with_the_policy_default(
        make_app: MakeApp, events: Events, emulator: GmailEmulator, policy: str,
        default: str) -> None:
    card = key_card(ClientApi(make_app(policy)), events, emulator, draft())
    radio = method_input(card)
    assert radio["type"] == "RADIO_BUTTON"
    assert [i["value"] for i in radio["items"]] == ["zip", "link"]
    assert [i["value"] for i in radio["items"] if i["selected"]] == [default]


def test_link_mode_sends_the_note_without_attachments(
        make_app: MakeApp, events: Events, emulator: GmailEmulator) -> None:
    api = ClientApi(make_app())
    c = draft()
    card = key_card(api, events, emulator, c)
    done = press(api, events, buttons(card)[ENCRYPT], c,
                 form={**ticks(PARTNER), "delivery_method": ["link"]})
    assert done["name"] == "encrypted", texts(done)
    assert "kept encrypted for download by link" in texts(done)
    assert "(link)" not in texts(done)
    store = store_of(api)
    [package] = store.list_packages(SENDER)
    assert package.zip_filename == LINK_ZIP_NAME and list(package.file_names) == list(FILES)
    [sent] = emulator.sent(SENDER)
    msg = message_from_bytes(sent.raw, policy=email_policy.default)
    assert not [p for p in msg.walk() if p.get_filename()]
    note = "".join(str(p.get_content()) for p in msg.walk()
                   if p.get_content_maintype() == "text")
    for name in FILES:
        assert name in note
    intent = store.search_audit(user=SENDER, action="addon.send_intent")[0]
    assert intent.data["sha256"] == hashlib.sha256(sent.raw).hexdigest()
    sv = api.app.extensions["sendguard"]
    manifest = open_manifest(sv.keywrapper, package)
    for n, f in enumerate(manifest.files):
        data = b"".join(decrypt_range(file_key(manifest.key, n), f.size,
                                      functools.partial(sv.files.read, f.object_name)))
        assert data == FILES[f.name]
    actions = [e.action for e in store.search_audit(package_id=package.id)]
    assert "files.uploaded" in actions and "package.sent" in actions
    chosen = store.search_audit(user=SENDER, action="addon.encrypt_send_confirmed")[0]
    assert chosen.data["method"] == "link"


@pytest.mark.parametrize("value", [["ftp"], ["zip", "link"]], ids=["unknown", "both"])
def test_forged_method_is_refused(make_app: MakeApp, events: Events,
                                  emulator: GmailEmulator, value: list[str]) -> None:
    api = ClientApi(make_app())
    c = draft()
    card = key_card(api, events, emulator, c)
    again = press(api, events, buttons(card)[ENCRYPT], c,
                  form={**ticks(PARTNER), "delivery_method": value})
    assert again["name"] == "encrypt_keys"
    assert "ZIP" in texts(again)
    assert emulator.sent(SENDER) == []
    assert store_of(api).list_packages(SENDER) == []


def test_revoke_on_the_result_card_erases_the_files(
        make_app: MakeApp, events: Events, emulator: GmailEmulator) -> None:
    api = ClientApi(make_app())
    c = draft()
    card = key_card(api, events, emulator, c)
    done = press(api, events, buttons(card)[ENCRYPT], c,
                 form={**ticks(PARTNER), "delivery_method": ["link"]})
    sv = api.app.extensions["sendguard"]
    [package] = store_of(api).list_packages(SENDER)
    objects = [f.object_name for f in open_manifest(sv.keywrapper, package).files]
    assert all(sv.files.exists(o) for o in objects)
    after = press(api, events, buttons(done)["Revoke password"], c)
    assert after["name"] == "encrypted"
    assert not any(sv.files.exists(o) for o in objects)
    erased = store_of(api).search_audit(package_id=package.id, action="files.erased")
    assert [e.actor for e in erased] == [SENDER] and erased[0].data["erased"] == len(FILES)
