"""The classroom over an emulated network, in a real browser: /compare switched to 200 ms
still delivers every burst complete and in order, and its latencies show the round trip;
the login holds on every network; the pages speak the browser's language or the one chosen."""

import re
from pathlib import Path

from clients import unique
from playwright.sync_api import Page, expect
from test_browser_compare import TRANSPORTS, burst, counter, log, value
from test_classroom_links import link_ports

SLOW = 30_000  # ms: a burst over HTTP at 200 ms takes 20 round trips to send


def open_compare_on(page: Page, rtt: int) -> int:
    """From the compare page, choose the network of `rtt` ms; the port it reopened on."""
    page.click(f'#network-choice a[data-rtt-ms="{rtt}"]')
    expect(page.locator("#network")).to_have_attribute("data-rtt-ms", str(rtt))
    for transport in TRANSPORTS:
        pane = page.locator(f".pane[data-transport={transport}]")
        expect(pane).to_have_attribute("data-status", "live", timeout=SLOW)
    return int(re.match(r"http://127\.0\.0\.1:(\d+)/", page.url)[1])


def test_compare_over_200_ms_delivers_every_burst_in_order_a_round_trip_late(
    browser_page, server, artifacts: Path
) -> None:
    room = unique("net")
    page = browser_page()
    page.goto(f"/compare?room={room}")
    expect(page.locator("#network")).to_have_attribute("data-rtt-ms", "0")
    expect(page.locator("#network-sentence")).to_contain_text("Network: direct to the server")

    port = open_compare_on(page, 200)
    assert port == link_ports(server.announcement)[200]
    assert page.url == f"http://127.0.0.1:{port}/compare?room={room}"  # the same room
    expect(page.locator("#network-sentence")).to_contain_text(
        "Network: emulated, 200 ms round trip — 100 ms each way; a new connection costs one "
        "more round trip."
    )
    expect(page.locator("#network-badge")).to_have_text("Network: 200 ms round trip")
    expect(page.locator("#network-choice [aria-current]")).to_have_attribute("data-rtt-ms", "200")
    # the page measures the network it is on: a kept-alive request takes a round trip
    measured = page.locator("#network-measured")
    expect(measured).to_have_attribute("data-value", re.compile(r"^\d"), timeout=SLOW)
    assert value(measured) >= 199

    burst(page, "short_poll")  # twenty HTTP requests, one after another
    expected = [f"burst 1 · {n:02d}/20" for n in range(1, 21)]
    for transport in TRANSPORTS:
        expect(log(page, transport)).to_have_text(expected, timeout=SLOW)
    burst(page, "websocket")  # twenty frames, one every 50 ms, none waiting for its ack
    expected += [f"burst 2 · {n:02d}/20" for n in range(1, 21)]
    for transport in TRANSPORTS:
        expect(log(page, transport)).to_have_text(expected, timeout=SLOW)
        expect(counter(page, transport, "received")).to_have_attribute("data-value", "40")

    # Latency is arrival minus the sender's stamp, one clock: every message went up the link
    # and came down it, and the relay never delivers early.
    assert value(counter(page, "websocket", "latency_mean")) >= 100
    for transport in TRANSPORTS:
        for figure in ("latency_last", "latency_mean", "latency_max"):
            assert value(counter(page, transport, figure)) >= 199, (transport, figure)
        theory = page.locator(f".pane[data-transport={transport}] .theory")
        expect(theory).to_contain_text("Theory: up 100")
    expect(page.locator(".pane[data-transport=short_poll] .theory")).to_contain_text(
        "≈ 800 ms on average"  # 100 up + (1000 + 200) / 2 waiting + 100 down
    )
    # the streams still opened one connection each, through the link
    expect(counter(page, "websocket", "requests")).to_have_attribute("data-value", "1")
    expect(counter(page, "sse", "requests")).to_have_attribute("data-value", "1")
    page.screenshot(path=artifacts / "compare-200ms.png")


def test_a_login_holds_on_every_network_and_chats_through_a_link(chat_user, server) -> None:
    alice, bob = chat_user("alice"), chat_user("bob")
    name = alice.locator("#me").inner_text()
    port = link_ports(server.announcement)[50]
    alice.goto(f"http://127.0.0.1:{port}/chat")  # logged in on the server's own port
    expect(alice.locator("#me")).to_have_text(name)
    expect(alice.locator("#network-badge")).to_have_text("Network: 50 ms round trip")
    expect(alice.locator("#transport-status")).to_have_attribute("data-state", "live")

    room = unique("room")
    for page in (alice, bob):
        page.fill("#join-room", room)
        page.press("#join-room", "Enter")
        expect(page.locator("#conversation-title")).to_have_text(f"#{room}")
    for page, text in ((alice, "through the link"), (bob, "straight in")):
        page.fill("#message-input", text)
        page.press("#message-input", "Enter")
    for page in (alice, bob):
        shown = page.locator("#messages li.msg:not(.pending) .text")
        expect(shown).to_contain_text(["through the link", "straight in"])


def test_the_pages_speak_the_browsers_language_until_the_switch_says_otherwise(
    browser_page, artifacts: Path
) -> None:
    page = browser_page(locale="zh-CN")  # Accept-Language: zh-CN
    page.goto("/dashboard")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("h1")).to_have_text("服务器看到的情况")
    expect(page.locator("tr[data-transport=long_poll] th")).to_have_text("长轮询")
    expect(page.locator("#dashboard-status")).to_contain_text("更新于")

    room = unique("zh")
    page.goto(f"/compare?room={room}")
    expect(page.locator(".pane[data-transport=short_poll] h2")).to_have_text("轮询")
    expect(page.locator(".pane[data-transport=long_poll] h2")).to_have_text("长轮询")
    for transport in TRANSPORTS:
        pane = page.locator(f".pane[data-transport={transport}]")
        expect(pane).to_have_attribute("data-status", "live")
        expect(pane.locator(".status")).to_have_text("已连通")
        expect(pane.locator(".theory")).to_contain_text("理论值")
    expect(page.locator("#network-sentence")).to_contain_text("网络：直连服务器")
    expect(page.locator("#network-measured")).to_contain_text("本页实测")
    page.screenshot(path=artifacts / "compare-zh.png")

    page.click("#language-switch [data-language=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(rf"/compare\?room={room}$"))
    expect(page.locator(".pane[data-transport=long_poll] h2")).to_have_text("Long poll")
    open_compare_on(page, 50)  # another port, the same host: the choice holds there too
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#network-sentence")).to_contain_text("Network: emulated, 50 ms")
    page.click("#language-switch [data-language=zh]")
    expect(page.locator("#network-sentence")).to_contain_text("网络：模拟网络，往返时间 50 毫秒")
