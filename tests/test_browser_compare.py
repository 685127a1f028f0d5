"""The compare page and the dashboard in a real browser: what each transport costs, live."""

import re
from pathlib import Path

from clients import unique
from playwright.sync_api import Locator, Page, expect

TRANSPORTS = ["short_poll", "long_poll", "sse", "websocket"]
NUMBER = re.compile(r"^\d+(\.\d+)?$")


def counter(page: Page, transport: str, name: str) -> Locator:
    return page.locator(f".pane[data-transport={transport}] [data-counter={name}]")


def log(page: Page, transport: str) -> Locator:
    return page.locator(f".pane[data-transport={transport}] .log .text")


def value(locator: Locator) -> float:
    expect(locator).to_have_attribute("data-value", NUMBER)
    return float(locator.get_attribute("data-value"))


def wait_for_value(page: Page, locator: Locator, at_least: float, timeout: float) -> None:
    page.wait_for_function(
        "([cell, n]) => Number(cell.dataset.value) >= n",
        arg=[locator.element_handle(), at_least],
        timeout=timeout,
    )


def burst(page: Page, sender: str) -> None:
    page.click(f"#sender-choice [data-transport={sender}]")
    page.click("#compare-burst")


def test_compare_shows_bursts_arriving_everywhere_and_what_idling_costs(
    browser_page, artifacts: Path
) -> None:
    page = browser_page()
    page.goto(f"/compare?room={unique('cmp')}")
    for transport in TRANSPORTS:
        pane = page.locator(f".pane[data-transport={transport}]")
        expect(pane).to_have_attribute("data-status", "live")

    # Idle: short polling keeps asking; the streams opened one connection and stay quiet.
    # A fast poll interval makes the point in seconds, and proves the control works: at the
    # default 1 s, twelve polls could not fit in the six seconds allowed.
    page.fill("#poll-interval", "0.25")
    polls = counter(page, "short_poll", "requests")
    wait_for_value(page, polls, value(polls) + 12, timeout=6_000)
    for transport in ("long_poll", "sse", "websocket"):
        expect(counter(page, transport, "requests")).to_have_attribute("data-value", "1")
        expect(counter(page, transport, "received")).to_have_attribute("data-value", "0")

    # A burst of 20 over HTTP, then one over the WebSocket: every pane gets all, in order.
    burst(page, "short_poll")
    expected = [f"burst 1 · {n:02d}/20" for n in range(1, 21)]
    for transport in TRANSPORTS:
        expect(log(page, transport)).to_have_text(expected)
    burst(page, "websocket")
    expected += [f"burst 2 · {n:02d}/20" for n in range(1, 21)]
    for transport in TRANSPORTS:
        expect(log(page, transport)).to_have_text(expected)
        expect(counter(page, transport, "received")).to_have_attribute("data-value", "40")
        value(counter(page, transport, "latency_last"))
        value(counter(page, transport, "latency_mean"))
    # Bytes come from each pane's own session on the server, refreshed once a second: wait
    # for two more refreshes (the first may have been asked before the last delivery).
    panes = {t: page.locator(f".pane[data-transport={t}]") for t in TRANSPORTS}
    targets = {}
    for transport, pane in panes.items():
        expect(pane).to_have_attribute("data-wire-refreshes", NUMBER)
        targets[transport] = float(pane.get_attribute("data-wire-refreshes")) + 2
    for transport, pane in panes.items():
        page.wait_for_function(
            "([pane, n]) => Number(pane.dataset.wireRefreshes) >= n",
            arg=[pane.element_handle(), targets[transport]],
        )
        # 40 messages of JSON, each well over 100 bytes, went down to every pane
        assert value(counter(page, transport, "bytes_down")) > 40 * 100, transport
        assert value(counter(page, transport, "bytes_up")) > 0, transport
    # Receiving 40 messages cost the WebSocket pane no new connection.
    expect(counter(page, "websocket", "requests")).to_have_attribute("data-value", "1")
    expect(counter(page, "sse", "requests")).to_have_attribute("data-value", "1")
    page.screenshot(path=artifacts / "compare.png")

    # The dashboard reads the server's own counters; the compare page keeps short polling.
    dashboard = page.context.new_page()
    dashboard.goto("/dashboard")
    requests = dashboard.locator('[data-metric="short_poll.requests"]')
    before = value(requests)
    wait_for_value(dashboard, requests, before + 3, timeout=10_000)
    rate = dashboard.locator('[data-metric="short_poll.requests_rate"]')
    wait_for_value(dashboard, rate, 0.5, timeout=5_000)
    websocket_out = dashboard.locator('[data-metric="websocket.bytes_out"]')
    assert value(websocket_out) > 0
    # the transports are named as the server names them (chat_core's Transport.label)
    expect(dashboard.locator("tr[data-transport=sse] th")).to_have_text("Server-Sent Events")
    expect(dashboard.locator("tr[data-transport=short_poll] th")).to_have_text("Short polling")
    expect(dashboard.locator("#dashboard-status")).to_have_attribute("data-state", "live")
    # a few seconds of chart, so the screenshot shows lines
    dashboard.wait_for_function(
        "() => Number(document.querySelector('#dashboard').dataset.samples) >= 5"
    )
    dashboard.screenshot(path=artifacts / "dashboard.png")
