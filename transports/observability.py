"""Health and metrics endpoints; their own traffic is not charged to any transport."""

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import shared_metrics
from .auth import public
from .backends import is_shared
from .http_body import json_response
from .state import state

bp = Blueprint("observability", __name__)


@bp.get("/healthz")
@public
def healthz() -> Response:
    return json_response({"ok": True})


@bp.get("/api/metrics")
@public
def metrics_json() -> Response:
    server = state()
    if is_shared(server.chat):
        return json_response(shared_metrics.combined_snapshot(server.chat, server.metrics))
    return json_response(server.metrics.snapshot())


@bp.get("/metrics")
@public
def metrics_prometheus() -> Response:
    server = state()
    if is_shared(server.chat):
        registry = shared_metrics.prometheus_registry(server.chat, server.metrics)
    else:
        registry = server.metrics.prometheus_registry()
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
