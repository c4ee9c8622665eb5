"""ASGI entry point: `uvicorn simulators.main:app`."""

from simulators.app import create_app

app = create_app()
