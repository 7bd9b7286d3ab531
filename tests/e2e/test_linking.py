"""Linking a chat to a tenant record: valid, reused, expired, wrong, lockout; deep links; roles."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeUser
from bot.i18n import Translator
from bot.models import Role
from bot.services import linking, residents
from tests.support import Harness, read, seen, tenant

WRONG_ONE = "This code is not right. Check it and try again. You have {n} try left."
WRONG_MANY = "This code is not right. Check it and try again. You have {n} tries left."


async def consented(core: Core, user: FakeUser, locale: str = "it") -> Translator:
    await user.send("/start")
    await user.press(core.catalogs.native_name(locale))
    t = core.catalogs.translator(locale)
    await user.press(t._("✅ I agree"))
    return t


async def test_a_valid_code_links_the_chat(harness: Harness, core: Core, fake: FakeBotAPI):
    record = await tenant(core, "A101", "Amina Haddad")
    issued = await linking.issue(core, "a101")
    user = fake.user(8001, first_name="Mina", language_code="ar")
    t = await consented(core, user, "ar")
    await user.send(issued.display.lower())  # typed in lower case with the dash: still fine
    assert user.last.text == seen(
        t, "Done! This chat is now linked to the tenant record of {name}.", name="Amina Haddad"
    )
    linked = await residents.find(core, 8001)
    assert linked is not None and linked.id == record.id and linked.is_linked
    assert (linked.locale, linked.display_name, linked.tenant_code) == ("ar", "Mina", "A101")
    assert linked.consent_at is not None


async def test_a_used_code_does_not_link_another_chat(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await tenant(core)
    issued = await linking.issue(core, "A101")
    first, second = fake.user(8002, first_name="A"), fake.user(8003, first_name="B")
    await consented(core, first)
    await first.send(f"/link {issued.code}")
    t = await consented(core, second)
    await second.send(f"/link {issued.code}")
    assert second.last.text == seen(
        t, "This code was already used. Ask the QMondo office for a new one, or type another code."
    )
    assert not (await residents.find(core, 8003)).is_linked
    # the owner sending it again is told they are linked, not that something is wrong
    await first.send(f"/link {issued.code}")
    assert first.last.text == seen(t, "This chat is already linked to your tenant record.")


async def test_an_expired_code_is_refused(harness: Harness, core: Core, fake: FakeBotAPI, clock):
    await tenant(core)
    issued = await linking.issue(core, "A101")
    clock.advance(core.settings.link_code_ttl + timedelta(minutes=1))
    user = fake.user(8004, first_name="A")
    t = await consented(core, user)
    await user.send(issued.code)
    assert user.last.text == seen(
        t, "This code has expired. Ask the QMondo office for a new one, or type another code."
    )


async def test_a_new_code_replaces_the_old_one(harness: Harness, core: Core, fake: FakeBotAPI):
    await tenant(core)
    old = await linking.issue(core, "A101")
    await linking.issue(core, "A101")
    user = fake.user(8005, first_name="A")
    t = await consented(core, user)
    await user.send(old.code)
    assert user.last.text == read(t.n_(WRONG_ONE, WRONG_MANY, 4))


async def test_five_wrong_codes_lock_the_chat_for_an_hour(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    await tenant(core)
    good = await linking.issue(core, "A101")
    user = fake.user(8006, first_name="A", language_code="uk")
    t = await consented(core, user, "uk")
    for left in (4, 3, 2, 1):
        await user.send("ZZZZ-2222")
        assert user.last.text == read(t.n_(WRONG_ONE, WRONG_MANY, left))
    await user.send("ZZZZ-3333")
    locked = seen(t, "Too many wrong codes. For your safety, try again after {time}.",
                  time=t.time(clock.now() + timedelta(hours=1)))
    assert user.last.text == locked
    # even the right code waits out the hour
    await user.send(f"/link {good.code}")
    assert user.last.text == locked
    assert not (await residents.find(core, 8006)).is_linked

    clock.advance(timedelta(hours=1, seconds=1))
    await user.send(f"/link {good.code}")
    assert user.last.text == seen(
        t, "Done! This chat is now linked to the tenant record of {name}.", name="Amina Haddad"
    )


async def test_text_that_is_not_a_code_gets_a_hint_and_costs_nothing(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = fake.user(8007, first_name="A")
    t = await consented(core, user)
    for _ in range(6):
        await user.send("non ho il codice")
    assert user.last.text == seen(
        t, "A code has 8 letters and numbers, like ABCD-2345. Please type it again."
    )
    await user.press(t._("Skip"))
    assert user.last.text == seen(t, "No problem. You can link your record later with /link.")


async def test_a_deep_link_code_waits_for_consent(harness: Harness, core: Core, fake: FakeBotAPI):
    await tenant(core, "B205", "Marco Rossi")
    issued = await linking.issue(core, "B205")
    user = fake.user(8008, first_name="Marco", language_code="it")
    await user.send(f"/start {issued.code}")  # what the QR code on the letter opens
    assert (await residents.find(core, 8008)).tenant_code is None  # nothing linked before consent
    t = await consented(core, user)
    assert user.last.text == seen(
        t, "Done! This chat is now linked to the tenant record of {name}.", name="Marco Rossi"
    )
    assert user.keyboard  # straight to the menu


async def test_a_deep_link_after_a_refusal_is_forgotten(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await tenant(core, "B205", "Marco Rossi")
    issued = await linking.issue(core, "B205")
    user = fake.user(8009, first_name="Marco", language_code="it")
    await user.send(f"/start {issued.code}")
    await user.press("Italiano")
    await user.press(core.catalogs.translator("it")._("❌ No, thanks"))
    resident = await residents.find(core, 8009)
    assert resident is not None and resident.pending_link_hash is None
    assert not resident.is_linked


async def test_operator_creates_a_code_with_qr_and_the_resident_uses_it(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await tenant(core, "C310", "Li Wei")
    await residents.set_role(core, 9001, Role.OPERATOR)
    operator = fake.user(9001, first_name="Giulia", language_code="it")
    await operator.send("/linkcode c310")
    card = operator.last
    assert card.photo is not None and card.photo.startswith(b"\x89PNG")
    assert card.protect_content
    assert "Li Wei" in card.caption and "https://t.me/qmondo_demo_bot?start=" in card.caption
    code = card.caption.split("?start=")[1].split()[0]

    resident = fake.user(8010, first_name="Wei", language_code="zh")
    await resident.send(f"/start {code}")
    t = await consented(core, resident, "zh")
    assert resident.last.text == seen(
        t, "Done! This chat is now linked to the tenant record of {name}.", name="Li Wei"
    )


async def test_operator_commands_are_refused_to_residents(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await tenant(core)
    user = fake.user(8011, first_name="A", language_code="it")
    await consented(core, user)
    await user.send("/linkcode A101")
    unknown = seen(core.catalogs.translator("it"),
                   "I don't know this command. Send /help to see what I can do.")
    assert user.last.text == unknown
    assert user.last.photo is None
    # the role is read from the database on every call: removing it takes effect at once
    await residents.set_role(core, 9002, Role.OPERATOR)
    operator = fake.user(9002, first_name="Giulia", language_code="it")
    await operator.send("/linkcode A101")
    assert operator.last.photo is not None
    await residents.set_role(core, 9002, Role.RESIDENT)
    await operator.send("/linkcode A101")
    assert operator.last.text == unknown


async def test_operator_gets_clear_answers_for_bad_input(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await residents.set_role(core, 9003, Role.OPERATOR)
    operator = fake.user(9003, first_name="Giulia", language_code="it")
    it = core.catalogs.translator("it")
    await operator.send("/linkcode")
    assert operator.last.text == seen(it, "Write it like this: /linkcode TENANT_CODE")
    await operator.send("/linkcode Z999")
    assert operator.last.text == seen(it, "There is no tenant record with code {code}.",
                                      code="Z999")
