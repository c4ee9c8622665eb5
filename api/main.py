"""ASGI entry point: `uvicorn api.main:app` (what `settlement api` serves), traced when OTEL_TRACES_EXPORTER says so."""

from api.app import create_app
from runtime import tracing

app = create_app(tracer_provider=tracing.start("settlement-api"))
