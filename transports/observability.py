"""Health and metrics endpoints; their own traffic is not charged to any transport."""

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .auth import public
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
    return json_response(state().metrics.snapshot())


@bp.get("/metrics")
@public
def metrics_prometheus() -> Response:
    registry = state().metrics.prometheus_registry()
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
