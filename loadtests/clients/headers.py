"""The headers a client sends: `minimal` (what the protocol needs) or `browser`.

`browser` is the set a current desktop Chrome sends from the chat page, authenticated by the
session cookie as a browser is. The two profiles make the classic header-overhead argument
measurable: the same message costs a different number of bytes only because of these.
"""

from chat_core import TRANSPORT_HEADER

_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
_CLIENT_HINTS = {
    "sec-ch-ua-platform": '"Linux"',
    "sec-ch-ua": '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
    "sec-ch-ua-mobile": "?0",
}
_LANGUAGE_AND_ENCODING = {
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "en-US,en;q=0.9",
}


def http_headers(
    profile: str,
    transport: str,
    origin: str,
    method: str = "GET",
    token: str | None = None,
    cookie: str | None = None,
    accept: str = "*/*",
) -> dict[str, str]:
    """Headers of one HTTP request (Host and Content-Length are added by the HTTP client)."""
    if profile == "minimal":
        headers = {TRANSPORT_HEADER: transport}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers
    headers = {"Connection": "keep-alive", **_CLIENT_HINTS, "User-Agent": _USER_AGENT}
    if method != "GET":
        headers["Content-Type"] = "application/json"
    headers[TRANSPORT_HEADER] = transport
    headers["Accept"] = accept
    if accept == "text/event-stream":
        headers["Cache-Control"] = "no-cache"
    if method != "GET":
        headers["Origin"] = origin  # fetch() sends Origin on every POST, same-origin too
    headers.update({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors",
                    "Sec-Fetch-Dest": "empty", "Referer": f"{origin}/"})  # fmt: skip
    headers.update(_LANGUAGE_AND_ENCODING)
    if cookie is not None:
        headers["Cookie"] = cookie
    return headers


def websocket_headers(
    profile: str, origin: str, token: str | None, cookie: str | None
) -> tuple[list[str], str | None]:
    """Extra handshake headers, and the Origin to send (None: send none).

    websocket-client adds Host, Upgrade, Connection, Sec-WebSocket-Key and -Version itself.
    """
    if profile == "minimal":
        return ([f"Authorization: Bearer {token}"] if token else []), None
    headers = ["Pragma: no-cache", "Cache-Control: no-cache", f"User-Agent: {_USER_AGENT}"]
    headers += [f"{name}: {value}" for name, value in _LANGUAGE_AND_ENCODING.items()]
    headers.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
    if cookie is not None:
        headers.append(f"Cookie: {cookie}")
    return headers, origin
