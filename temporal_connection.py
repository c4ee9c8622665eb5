"""One way to reach Temporal: the pydantic data converter on every client (DESIGN §6)."""

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from settings import Settings

DEV_SERVER_ADDRESS = "127.0.0.1:7233"


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address or DEV_SERVER_ADDRESS,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
    )
