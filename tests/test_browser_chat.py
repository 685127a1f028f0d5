"""The login and chat pages in a real browser: two people, every transport, nothing lost."""

from pathlib import Path

import pytest
from clients import unique
from playwright.sync_api import Locator, Page, expect

TRANSPORTS = ["short_poll", "long_poll", "sse", "websocket"]


def name_of(page: Page) -> str:
    return page.locator("#me").inner_text()


def shown(page: Page) -> Locator:
    """What the open conversation shows, accepted messages only (not 'sending…' ones)."""
    return page.locator("#messages li.msg:not(.pending)")


def say(page: Page, text: str) -> None:
    page.fill("#message-input", text)
    page.press("#message-input", "Enter")


def join(page: Page, room: str) -> None:
    page.fill("#join-room", room)
    page.press("#join-room", "Enter")
    expect(page.locator("#conversation-title")).to_have_text(f"#{room}")


def switch(page: Page, transport: str) -> None:
    page.click(f"#transport-switch [data-transport={transport}]")


def expect_conversation(page: Page, lines: list[tuple[str, str]]) -> None:
    expect(shown(page).locator(".text")).to_have_text([text for _, text in lines])
    expect(shown(page).locator(".from")).to_have_text([sender for sender, _ in lines])


def test_login_flashes_refusals_and_remembers_who_is_in(
    browser_page, server, artifacts: Path
) -> None:
    page = browser_page()
    page.goto("/")
    page.screenshot(path=artifacts / "login.png")

    page.fill("#name", "no spaces allowed")
    page.click("button[type=submit]")
    expect(page.locator(".flash-error")).to_contain_text("may hold only letters, digits")
    expect(page.locator("#name")).to_have_value("no spaces allowed")

    name = unique("carol")
    page.fill("#name", name)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/chat")
    expect(page.locator("#me")).to_have_text(name)

    rival = browser_page()
    rival.goto("/")
    rival.fill("#name", name)
    rival.click("button[type=submit]")
    expect(rival.locator(".flash-error")).to_contain_text("is in use")

    page.goto("/")  # someone logged in goes straight to the chat
    expect(page).to_have_url(f"{server.url}/chat")
    page.click("#logout")
    expect(page.locator("#name")).to_be_visible()

    rival.fill("#name", name)  # the name was released by logging out
    rival.click("button[type=submit]")
    expect(rival.locator("#me")).to_have_text(name)


def test_switching_transport_mid_conversation_loses_and_doubles_nothing(
    chat_user, artifacts: Path
) -> None:
    alice, bob = chat_user("alice"), chat_user("bob")
    ann, ben = name_of(alice), name_of(bob)
    room = unique("room")
    join(alice, room)
    join(bob, room)
    expect(alice.locator("#members [data-member]")).to_have_text([ben])

    conversation: list[tuple[str, str]] = []
    allowed_via: list[set[str | None]] = []  # which transports may have delivered each line
    # Alice starts on WebSocket and goes through every transport; Bob sends over others.
    bob_transports = ["sse", "websocket", "short_poll", "long_poll"]
    for alice_to, bob_on in zip(TRANSPORTS, bob_transports, strict=True):
        switch(bob, bob_on)
        before = alice.locator("#current-transport").get_attribute("data-transport")
        if before == "short_poll":
            # Hold Alice's next poll before it leaves the browser: what Bob sends now can
            # reach her only through the next transport, from the cursor the switch hands on.
            with alice.expect_request("**/api/poll?*"):
                alice.route("**/api/poll?*", lambda route: None)
        for n in (1, 2):
            say(bob, f"{bob_on} {n}, before Alice leaves {before}")
            conversation.append((ben, f"{bob_on} {n}, before Alice leaves {before}"))
        expect_conversation(bob, conversation)
        switch(alice, alice_to)
        alice.unroute_all(behavior="ignoreErrors")
        say(bob, f"{bob_on} 3, while Alice joins {alice_to}")
        conversation.append((ben, f"{bob_on} 3, while Alice joins {alice_to}"))
        expect_conversation(alice, conversation)
        expect(alice.locator("#current-transport")).to_have_attribute("data-transport", alice_to)

        say(alice, f"Alice over {alice_to}")
        conversation.append((ann, f"Alice over {alice_to}"))
        expect_conversation(bob, conversation)
        expect_conversation(alice, conversation)
        # A pushing transport may have delivered Bob's first two lines before the switch;
        # the held poll cannot have.
        early = {alice_to} if before == "short_poll" else {before, alice_to}
        allowed_via += [early, early, {alice_to}, {alice_to}]

    delivered_by = shown(alice).evaluate_all("items => items.map(i => i.dataset.via)")
    for got, allowed, line in zip(delivered_by, allowed_via, conversation, strict=True):
        assert got in allowed, f"{line} was delivered by {got}"

    # Private: Alice picks Bob from the member list; only the two of them see it.
    alice.click(f"#members [data-member='{ben}']")
    expect(alice.locator("#conversation-title")).to_have_text(f"Private with {ben}")
    switch(alice, "short_poll")
    say(alice, "just between us")
    expect(bob.locator(f"#private-list [data-key='@{ann}'] .unread")).to_have_text("1")
    bob.click(f"#private-list [data-key='@{ann}']")
    expect_conversation(bob, [(ann, "just between us")])
    switch(bob, "sse")
    say(bob, "agreed")
    expect_conversation(alice, [(ann, "just between us"), (ben, "agreed")])
    expect_conversation(bob, [(ann, "just between us"), (ben, "agreed")])

    alice.click(f"#room-list [data-key='#{room}']")
    expect_conversation(alice, conversation)  # the private lines stayed out of the room
    alice.screenshot(path=artifacts / "chat.png")

    # A reload rebuilds the conversation from the room's history and the replayed stream:
    # both carry the same ids, and each line still shows once.
    alice.reload()
    alice.click(f"#room-list [data-key='#{room}']")
    expect_conversation(alice, conversation)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_session_ended_elsewhere_is_reported_not_hidden(
    chat_user, server, transport: str
) -> None:
    page = chat_user("dora")
    switch(page, transport)
    expect(page.locator("#transport-status")).to_have_attribute("data-state", "live")
    assert page.request.delete(f"{server.url}/api/session").status == 204  # same cookie
    expect(page.locator("#transport-status")).to_have_attribute("data-state", "failed")
    expect(page.locator(".notice-error")).to_contain_text("log")
    expect(page.locator("#message-input")).to_be_disabled()


def test_html_in_a_message_is_shown_as_text(chat_user) -> None:
    alice, bob = chat_user("alice"), chat_user("bob")
    room = unique("room")
    join(alice, room)
    join(bob, room)
    attack = '<img src=x onerror="window.pwned=1"><b>bold</b> & <script>window.pwned=2</script>'
    say(alice, attack)
    for page in (alice, bob):
        expect(shown(page).locator(".text")).to_have_text([attack])
        expect(page.locator("#messages b, #messages img, #messages script")).to_have_count(0)
        assert page.evaluate("window.pwned") is None
