"""OpenTelemetry tracing, off unless OTEL_TRACES_EXPORTER names an exporter (`otlp`, `console`; default `none`).

When on, a process traces its incoming HTTP requests (FastAPI), its PostgreSQL queries (asyncpg), its outgoing HTTP
calls (httpx) and its Temporal calls (`temporalio.contrib.opentelemetry`): the API's span context travels in the
workflow's headers to the workflow and its activities, so an order request is one trace. The exporters read the
standard OTEL_* variables themselves (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, ...).
"""

import os
from collections.abc import Mapping, Sequence

from fastapi import FastAPI
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from temporalio.contrib.opentelemetry import TracingInterceptor

EXPORTERS = ("none", "console", "otlp")
OTLP_PROTOCOL = "http/protobuf"
UNTRACED_PATHS = "healthz,readyz,metrics"


def refuse(reason: str) -> SystemExit:
    return SystemExit(f"settlement: refusing to start: {reason}")


def exporters_from_environment(environ: Mapping[str, str] = os.environ) -> list[SpanExporter]:
    """The span exporters OTEL_TRACES_EXPORTER lists (comma-separated); none when unset, `none`, or OTEL_SDK_DISABLED."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    names = [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "none").split(",") if name.strip()]
    if any(name not in EXPORTERS for name in names):
        raise refuse(f"OTEL_TRACES_EXPORTER lists {', '.join(EXPORTERS)} only")
    exporters: list[SpanExporter] = []
    if "otlp" in names:
        protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or OTLP_PROTOCOL
        if protocol != OTLP_PROTOCOL:
            raise refuse(f"the OTLP exporter speaks {OTLP_PROTOCOL} only (OTEL_EXPORTER_OTLP_PROTOCOL)")
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter())
    if "console" in names:
        exporters.append(ConsoleSpanExporter())
    return exporters


def start(service_name: str, exporters: Sequence[SpanExporter] | None = None) -> TracerProvider | None:
    """This process's tracer provider, exporting to `exporters` (default: as the environment says), with asyncpg and
    httpx instrumented for the whole process; None when tracing is off. OTEL_SERVICE_NAME overrides `service_name`."""
    exporters = exporters_from_environment() if exporters is None else exporters
    if not exporters:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service_name}))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    AsyncPGInstrumentor().instrument(tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    return provider


def stop(provider: TracerProvider | None) -> None:
    """Export what is left and undo the process-wide instrumentation."""
    if provider is None:
        return
    AsyncPGInstrumentor().uninstrument()
    HTTPXClientInstrumentor().uninstrument()
    provider.shutdown()


def instrument_app(app: FastAPI, provider: TracerProvider | None) -> None:
    """A server span for every request but the probes' and the scrapes' (OTEL_PYTHON_FASTAPI_EXCLUDED_URLS changes which)."""
    if provider is not None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            exclude_spans=["receive", "send"],
            excluded_urls=os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", UNTRACED_PATHS),
        )


def temporal_interceptors(provider: TracerProvider | None) -> list[TracingInterceptor]:
    """For a Temporal client: spans for its calls and, in a worker built on it, for workflows and activities."""
    return [TracingInterceptor(provider.get_tracer(__name__))] if provider is not None else []
