"""One way to reach Temporal: the pydantic data converter (and payload encryption) on every client (DESIGN §6)."""

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from runtime import codec
from runtime.settings import Settings

DEV_SERVER_ADDRESS = "127.0.0.1:7233"


def data_converter(settings: Settings) -> DataConverter:
    """The pydantic converter, with payload encryption when keys are configured."""
    return codec.data_converter(settings.settlement_payload_keys)


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        settings.temporal_address or DEV_SERVER_ADDRESS,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
