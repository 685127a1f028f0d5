"""The API every transport shares: sessions, rooms, sending, history."""

from typing import Any

from flask import Blueprint, Response, g, request, session

from chat_core import Chat, Session
from chat_core.message import dumps

from .auth import public, unmetered
from .http_body import JSON, json_body, json_response
from .state import state

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.post("/session")
@public
def create_session() -> Response:
    chat = state().chat
    new = chat.login(json_body().get("name"), client=request.remote_addr)
    session["token"] = new.token
    return json_response(
        {"name": new.name, "token": new.token, "cursor": chat.newest_id()}, status=201
    )


@bp.get("/session")
@unmetered
def show_session() -> Response:
    """Who the caller is, and what its own traffic has cost on the wire so far."""
    me, metrics = g.chat_session, state().metrics
    metrics.settle_long_lived()
    wire = metrics.session_wire(me).as_dict()
    return json_response({"name": me.name, "rooms": sorted(me.rooms), "wire": wire})


@bp.delete("/session")
def end_session() -> Response:
    state().chat.logout(g.chat_session)
    session.pop("token", None)
    return Response(status=204)


@bp.get("/rooms")
def list_rooms() -> Response:
    rooms = [{"room": room, "members": count} for room, count in state().chat.rooms()]
    return json_response({"rooms": rooms})


@bp.post("/rooms/<room>/join")
def join_room(room: str) -> Response:
    name, members = state().chat.join(g.chat_session, room)
    return json_response({"room": name, "members": members})


@bp.post("/rooms/<room>/leave")
def leave_room(room: str) -> Response:
    return json_response({"room": state().chat.leave(g.chat_session, room)})


@bp.get("/rooms/<room>/messages")
def room_history(room: str) -> Response:
    messages = state().chat.history(g.chat_session, room, request.args.get("limit"))
    body = b'{"messages":[' + b",".join(m.json for m in messages) + b"]}"
    return Response(body, mimetype="application/json")


@bp.get("/rooms/<room>/members")
def room_members(room: str) -> Response:
    """Who is in a room now (members only); the chat page refreshes its member list with it."""
    name, members = state().chat.members(g.chat_session, room)
    return json_response({"room": name, "members": members})


@bp.post("/messages")
def send_message() -> Response:
    """Served by the gateway (transports.gateway) but for servers without it."""
    status, body = send_answer(state().chat, g.chat_session, json_body())
    return Response(body, status=status, mimetype=JSON)


def send_answer(chat: Chat, session: Session, body: dict[str, Any]) -> tuple[int, bytes]:
    """A send's answer: 201 with the new id, 200 with the id of the one a repeated cid made."""
    result = chat.send(session, body)
    return (201 if result.created else 200), dumps({"id": result.id})
