"""One way to reach Temporal: where and how to connect from Temporal's standard environment configuration
(`temporalio.envconfig`: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile of a
TOML file), and the pydantic data converter (with payload encryption) on every client (README: Where to look in the Temporal UI; docs/deployment.md)."""

from collections.abc import Mapping, Sequence

from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig
from temporalio.runtime import Runtime

from runtime import codec
from runtime.settings import Settings

DEV_SERVER_ADDRESS = "127.0.0.1:7233"


def data_converter(settings: Settings) -> DataConverter:
    """The pydantic converter, with payload encryption when keys are configured."""
    return codec.data_converter(settings.settlement_payload_keys)


def connect_config(settings: Settings, environ: Mapping[str, str] | None = None) -> ClientConnectConfig:
    """Client.connect's address, namespace, TLS and API key: the TEMPORAL_* variables of `environ` (default: this
    process's) over the profile TEMPORAL_PROFILE names (default `default`) in the configuration file (TEMPORAL_CONFIG_FILE,
    else ~/.config/temporalio/temporal.toml); the local dev server when nothing names an address. Under make run
    (local mode) only the variables count: a developer's own Temporal profile never points the local engine elsewhere."""
    try:
        profile = ClientConfigProfile.load(disable_file=settings.settlement_local_mode, override_env_vars=environ)
        config = profile.to_client_connect_config()
    except (RuntimeError, OSError) as err:  # the bridge's ConfigError is a RuntimeError; OSError: a certificate file
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise SystemExit(f"settlement: refusing to start: the Temporal connection configuration cannot be used: {first_line}") from None
    config.setdefault("target_host", DEV_SERVER_ADDRESS)
    return config


async def connect(settings: Settings, runtime: Runtime | None = None, interceptors: Sequence[Interceptor] = ()) -> Client:
    return await Client.connect(
        **connect_config(settings),
        data_converter=data_converter(settings),
        runtime=runtime,
        interceptors=interceptors,
    )
