"""Bad input gets a clear error in the protocol's format and harms nobody else: after each
case, a bystander pair in another room still exchanges messages.

None of these needs a socket: they run through Flask's test client on the app itself (the
`app` fixture). What only a real socket shows — WebSocket handshakes and frames, floods on one
connection, clients that vanish — is in test_bad_input_sockets.py.
"""

import json

import gevent.monkey
import pytest


@pytest.fixture
def bystanders(app_people):
    """Two users chatting elsewhere; `check()` proves the app still serves them."""
    room, (speaker, listener) = app_people("speaker", "listener")

    class Bystanders:
        def check(self) -> None:
            sent = speaker.say(room=room, text="still there?")
            body = listener.get("/api/poll", params={"since": listener.cursor}).get_json()
            listener.cursor = body["cursor"]
            assert [m["id"] for m in body["messages"]] == [sent]

    return Bystanders()


def assert_error(answer, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.get_json()
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def test_the_app_runs_in_the_test_process_without_patching_it(app_people):
    room, (alice, bob) = app_people("alice", "bob")
    sent = alice.say(room=room, text="hello")
    answer = bob.get("/api/longpoll", params={"since": bob.cursor, "timeout": "1"})
    assert [m["id"] for m in answer.get_json()["messages"]] == [sent]
    # nothing new: gevent's event times out under the unpatched test process as well
    answer = bob.get("/api/longpoll", params={"since": sent, "timeout": "0.05"})
    assert answer.get_json() == {"messages": [], "cursor": sent}
    assert not gevent.monkey.is_anything_patched()


# -- HTTP bodies ------------------------------------------------------------------------------


def test_malformed_json_is_bad_json(app, app_people, bystanders):
    room, (alice,) = app_people("alice")
    assert_error(alice.post("/api/messages", data=b'{"room": "x", "text": '), 400, "bad_json")
    assert_error(app.test_client().post("/api/session", data=b"\xff\xfe{"), 400, "bad_json")
    bystanders.check()


@pytest.mark.parametrize(
    "body",
    [
        {"room": "ROOM", "text": 42},
        {"room": ["ROOM"], "text": "x"},
        {"room": "ROOM", "to": "someone", "text": "x"},
        {"text": "no target"},
        {"room": "ROOM", "text": "x", "ts": "noon"},
        ["ROOM", "x"],
        "just a string",
    ],
)
def test_wrong_types_and_shapes_are_bad_requests(app_people, bystanders, body):
    room, (alice,) = app_people("alice")
    body = json.loads(json.dumps(body).replace("ROOM", room))
    assert_error(alice.send_json(body), 400, "bad_request")
    bystanders.check()


def test_oversize_text_and_oversize_bodies_are_too_large(app_people, bystanders):
    room, (alice,) = app_people("alice")
    assert_error(alice.send(room=room, text="x" * 4097), 413, "too_large")
    assert alice.send(room=room, text="x" * 4096).status_code == 201
    huge = b'{"room": "%s", "text": "' % room.encode() + b"x" * 70_000 + b'"}'
    assert_error(alice.post("/api/messages", data=huge), 413, "too_large")
    bystanders.check()


def test_unknown_room_and_unknown_user(app_people, bystanders):
    room, (alice,) = app_people("alice")
    assert_error(alice.send(room="never-was", text="x"), 404, "not_found")
    assert_error(alice.send(to="nobody-by-this-name", text="x"), 404, "no_such_user")
    assert_error(alice.get("/api/rooms/never-was/messages"), 404, "not_found")
    bystanders.check()


def test_room_rules_for_outsiders(app_people, bystanders):
    room, (alice, outsider) = app_people("alice", "outsider")
    outsider.post(f"/api/rooms/{room}/leave")
    assert_error(outsider.send(room=room, text="x"), 403, "forbidden")
    assert_error(outsider.get(f"/api/rooms/{room}/messages"), 403, "forbidden")
    assert outsider.post(f"/api/rooms/{room}/leave").status_code == 200
    assert_error(outsider.post("/api/rooms/bad name!/join"), 400, "bad_request")
    bystanders.check()


@pytest.mark.parametrize("limit", ["0", "201", "ten", "-1"])
def test_a_bad_history_limit_is_a_bad_request(app_people, limit):
    room, (alice,) = app_people("alice")
    assert_error(
        alice.get(f"/api/rooms/{room}/messages", params={"limit": limit}), 400, "bad_request"
    )


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "99999999999"])
def test_a_bad_cursor_is_a_bad_request_on_every_http_transport(app_people, since):
    _, (alice,) = app_people("alice")
    for path in ("/api/poll", "/api/longpoll", "/api/stream"):
        assert_error(alice.get(path, params={"since": since}), 400, "bad_request")


def test_a_long_poll_timeout_that_is_not_a_number_is_a_bad_request(app_people):
    _, (alice,) = app_people("alice")
    for timeout in ("soon", "nan", "-5"):
        answer = alice.get("/api/longpoll", params={"timeout": timeout})
        assert_error(answer, 400, "bad_request")


def test_an_unknown_endpoint_is_not_found_in_the_error_format(app):
    assert_error(app.test_client().get("/api/nothing-here"), 404, "not_found")


def test_a_wrong_method_is_a_bad_request_that_says_which_methods_the_path_takes(app):
    answer = app.test_client().put("/api/messages", json={})
    assert_error(answer, 405, "bad_request")
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}


def test_a_plain_get_on_the_websocket_endpoint_says_what_it_wants(app_people):
    _, (alice,) = app_people("alice")
    answer = alice.get("/ws")
    assert_error(answer, 400, "bad_request")
    assert "WebSocket" in answer.get_json()["detail"]


# -- who may connect --------------------------------------------------------------------------


def test_missing_forged_or_malformed_credentials_are_unauthorized(app, app_people, bystanders):
    room, (alice,) = app_people("alice")
    anonymous = app.test_client()  # no login cookie, as a bare requests.post has none
    url = "/api/messages"
    body = {"room": room, "text": "x"}
    assert_error(anonymous.post(url, json=body), 401, "unauthorized")
    forged = {"Authorization": "Bearer not-a-real-token"}
    assert_error(anonymous.post(url, json=body, headers=forged), 401, "unauthorized")
    basic = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    assert_error(anonymous.post(url, json=body, headers=basic), 401, "unauthorized")
    # a bad header is not rescued by a good ?token
    answer = anonymous.post(url, json=body, headers=forged, query_string={"token": alice.token})
    assert_error(answer, 401, "unauthorized")
    answer = anonymous.post(url, json=body, query_string={"token": alice.token})
    assert answer.status_code == 201
    bystanders.check()


def test_an_event_stream_without_a_session_is_refused(app, bystanders):
    assert_error(app.test_client().get("/api/stream"), 401, "unauthorized")
    bystanders.check()


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1"])
def test_cross_site_requests_are_refused_before_the_session_is_checked(
    app, app_people, bystanders, origin
):
    room, (alice,) = app_people("alice")
    foreign = {"Origin": origin}
    assert_error(alice.send_json({"room": room, "text": "x"}, headers=foreign), 403, "forbidden")
    answer = app.test_client().post("/api/messages", json={}, headers=foreign)
    assert_error(answer, 403, "forbidden")  # 403, not 401: origin first
    assert_error(alice.get("/api/stream", headers=foreign), 403, "forbidden")
    bystanders.check()


def test_same_origin_and_origin_less_requests_are_welcome(app_people):
    room, (alice,) = app_people("alice")
    own = {"Origin": "http://localhost"}  # the test client's own host
    assert alice.send_json({"room": room, "text": "x"}, headers=own).status_code == 201
    # reading is not state-changing: a foreign page may not stream, but a plain poll is harmless
    assert alice.get("/api/poll", headers={"Origin": "http://evil.example"}).status_code == 200


def test_a_cookie_session_works_for_browsers(app):
    http = app.test_client()
    name = f"cookie{id(http) % 100000}"
    assert http.post("/api/session", json={"name": name}).status_code == 201
    answer = http.get("/api/session")
    assert answer.status_code == 200 and answer.get_json()["name"] == name


# -- floods -----------------------------------------------------------------------------------


def test_a_flood_is_rate_limited_and_nothing_refused_is_accepted(app_people, bystanders):
    room, (alice, bob) = app_people("alice", "bob")
    answers = [alice.send(room=room, text=f"m{i}") for i in range(60)]
    accepted = [a for a in answers if a.status_code == 201]
    limited = [a for a in answers if a.status_code == 429]
    assert len(accepted) + len(limited) == 60
    assert len(accepted) >= 40 and limited
    assert_error(limited[0], 429, "rate_limited")
    assert int(limited[0].headers["Retry-After"]) >= 1
    history = bob.get(f"/api/rooms/{room}/messages", params={"limit": 200}).get_json()
    assert sorted(m["id"] for m in history["messages"]) == sorted(
        a.get_json()["id"] for a in accepted
    )
    bystanders.check()
