"""What the pages' scripts show, in the page's language: marked for translation here, handed to
the scripts as one JSON block (base.html, read by static/js/text.js). `{name}` in a text is
filled in by the script; the keys are the scripts' own.

The transports' names have one home, chat_core's `Transport.label`; chat_core knows nothing
of Flask, so their translations are marked here, keyed by the Transport (tests/
test_language.py checks each English text is the label itself).
"""

from flask_babel import lazy_gettext

from chat_core import Transport

TRANSPORT_LABELS = {
    Transport.SHORT_POLL: lazy_gettext("short polling"),
    Transport.LONG_POLL: lazy_gettext("long polling"),
    Transport.SSE: lazy_gettext("Server-Sent Events"),
    Transport.WEBSOCKET: lazy_gettext("WebSocket"),
}

SCRIPT_TEXT = {
    # -- the transports: a short name and one sentence on how each delivers
    "transport.short_poll.short": lazy_gettext("Short poll"),
    "transport.short_poll.how": lazy_gettext(
        'Asks the server every interval: "anything new?", usually to hear "no".'
    ),
    "transport.long_poll.short": lazy_gettext("Long poll"),
    "transport.long_poll.how": lazy_gettext(
        "Asks once; the server holds the answer until there is news (or 25 s pass)."
    ),
    "transport.sse.short": lazy_gettext("SSE"),
    "transport.sse.how": lazy_gettext(
        "One HTTP response that never ends: the server writes each message into it."
    ),
    "transport.websocket.short": lazy_gettext("WebSocket"),
    "transport.websocket.how": lazy_gettext(
        "One connection, both directions: messages and sends are small frames."
    ),
    # -- a transport client's state and what it is doing
    "state.connecting": lazy_gettext("connecting"),
    "state.live": lazy_gettext("live"),
    "state.retrying": lazy_gettext("retrying"),
    "state.failed": lazy_gettext("failed"),
    "state.stopped": lazy_gettext("stopped"),
    "status.connecting": lazy_gettext("connecting…"),
    "status.stopped": lazy_gettext("stopped"),
    "status.session_ended": lazy_gettext("session ended"),
    "status.retry": lazy_gettext("{detail} Trying again in {seconds} s."),
    "status.short_poll_empty": lazy_gettext("asked: nothing new; again in {seconds} s"),
    "status.short_poll_news": lazy_gettext("asked: got news"),
    "status.long_poll_waiting": lazy_gettext("waiting up to {seconds} s for news"),
    "status.sse_open": lazy_gettext("stream open: the server writes when there is news"),
    "status.websocket_open": lazy_gettext("connected: frames flow both ways"),
    # -- what went wrong (the server's own error details are shown as it wrote them)
    "error.stopped": lazy_gettext("The transport was switched before the send was answered."),
    "error.unreachable": lazy_gettext("The server could not be reached ({reason})."),
    "error.http_status": lazy_gettext("The server answered {status} {reason}."),
    "error.session_gone": lazy_gettext("This session has ended; log in again."),
    "error.session_ended_by_server": lazy_gettext("The server ended this session."),
    "error.sse_dropped": lazy_gettext("The event stream dropped; the browser reconnects."),
    "error.sse_refused": lazy_gettext("The server refused the event stream."),
    "error.websocket_reconnecting": lazy_gettext("WebSocket: {why}; reconnecting from #{cursor}."),
    "close.1001": lazy_gettext("the server is going away"),
    "close.1006": lazy_gettext("the connection was lost"),
    "close.1008": lazy_gettext("the server refused a frame"),
    "close.1009": lazy_gettext("a message was too big"),
    "close.1011": lazy_gettext("the server failed"),
    "close.1013": lazy_gettext("the server closed a consumer that fell behind"),
    "close.other": lazy_gettext("the connection closed ({code})"),
    "notice.dismiss": lazy_gettext("Dismiss"),
    "notice.about": lazy_gettext("{transport}: {detail}"),
    # -- the chat page
    "chat.gap": lazy_gettext(
        "Some messages were dropped before they reached you; resuming from #{oldest}."
    ),
    "chat.session_ended": lazy_gettext("{detail} Reload or go back to the login page to continue."),
    "chat.members": lazy_gettext("Members"),
    "chat.members_of": lazy_gettext("Members of #{room}"),
    "chat.you": lazy_gettext("{name} (you)"),
    "chat.talk_privately": lazy_gettext("Talk privately with {name}"),
    "chat.unread": lazy_gettext("unread"),
    "chat.no_conversation": lazy_gettext("Join a room to start"),
    "chat.private_with": lazy_gettext("Private with {name}"),
    "chat.placeholder_room": lazy_gettext("Message #{room}"),
    "chat.placeholder_private": lazy_gettext("Private message to {name}"),
    "chat.delivered_by": lazy_gettext("delivered by {transport}"),
    "chat.pending.sending": lazy_gettext("sending…"),
    "chat.pending.accepted": lazy_gettext("accepted, on its way"),
    "chat.pending.failed": lazy_gettext("not sent"),
    "chat.logout_failed": lazy_gettext("Logging out failed: {detail}"),
    # -- the compare page
    "compare.messages_of": lazy_gettext("{transport} messages"),
    "compare.as": lazy_gettext("as"),
    "compare.stat.requests": lazy_gettext("requests"),
    "compare.stat.received": lazy_gettext("messages in"),
    "compare.stat.bytes_up": lazy_gettext("bytes up"),
    "compare.stat.bytes_down": lazy_gettext("bytes down"),
    "compare.stat.latency": lazy_gettext("latency, ms"),
    "compare.stat.latency_last": lazy_gettext("last"),
    "compare.stat.latency_mean": lazy_gettext("mean"),
    "compare.stat.latency_max": lazy_gettext("max"),
    "compare.not_available": lazy_gettext("n/a"),
    "compare.gap": lazy_gettext("{transport}: messages dropped; resuming at #{oldest}."),
    "compare.could_not_start": lazy_gettext("{transport}: could not start: {detail}"),
    "compare.bad_interval": lazy_gettext("The poll interval must be between 0.25 and 10 seconds."),
    "compare.send_failed": lazy_gettext("Send failed: {detail}"),
    "compare.burst_text": lazy_gettext("burst {burst} · {number}/{total}"),
    "compare.measuring": lazy_gettext("Measuring the round trip…"),
    "compare.measured": lazy_gettext(
        "Measured from this page: {ms} ms for a request on a kept-alive connection "
        "(the fastest of {count})."
    ),
    # The theory beside each pane, for the network the page is on and the poll interval
    # chosen: {half} is one transit (RTT/2), all in ms. An estimate, and it says so.
    "theory.short_poll": lazy_gettext(
        "Theory: up {half} + waiting for a poll (one every interval + round trip, {cycle} ms: "
        "{wait} on average) + down {half} ≈ {mean} ms on average, up to about {most} ms."
    ),
    "theory.long_poll": lazy_gettext(
        "Theory: up {half} + down {half} ≈ {one} ms. In a burst, a message that arrives while "
        "an answer travels waits for the next ask (down, up, down): up to about {most} ms."
    ),
    "theory.stream": lazy_gettext(
        "Theory: up {half} + down {half} ≈ {one} ms: one transit each way, whatever the traffic."
    ),
    # -- the dashboard
    "dashboard.other": lazy_gettext("other (no transport named)"),
    "dashboard.cannot_read": lazy_gettext("Cannot read the metrics: {reason}"),
    "dashboard.server_answered": lazy_gettext("the server answered {status}"),
    "dashboard.updated": lazy_gettext("updated {time}"),
    "dashboard.cpu": lazy_gettext("{seconds} s"),
    "dashboard.cpu_now": lazy_gettext("{seconds} s (now {percent} of a core)"),
}


def transport_labels() -> dict[str, str]:
    """Each transport's name in this request's language, by its spelling."""
    return {str(transport): str(label) for transport, label in TRANSPORT_LABELS.items()}


def script_text() -> dict[str, str]:
    return {key: str(text) for key, text in SCRIPT_TEXT.items()}
