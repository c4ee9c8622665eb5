"""Every setting of the engine, read from environment variables (see the README's configuration table)."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str | None = Field(None, description="PostgreSQL DSN; unset: the launcher starts embedded PostgreSQL")
    temporal_address: str | None = Field(None, description="host:port of Temporal; unset: the launcher starts the dev server")
    temporal_namespace: str = "default"
    temporal_task_queue: str = "settlement"
    temporal_ui_url: str = "http://127.0.0.1:8233"

    settlement_jwt_secret: str = Field("dev-only-jwt-secret-change-me-0123456789", min_length=32)
    settlement_webhook_secret: str = Field("dev-only-webhook-secret-change-me", min_length=16)
    settlement_webhook_tolerance_seconds: int = 300

    settlement_payload_keys: str | None = Field(
        None, description="AES-256-GCM keys for Temporal payloads, 'kid2:BASE64,kid1:BASE64' (first encrypts); unset: no encryption"
    )
    settlement_codec_allow_anonymous: bool = Field(False, description="let the codec endpoint decode without an operator token (local UI)")

    settlement_api_port: int = 8000
    settlement_sim_port: int = 8100
    settlement_worker_metrics_host: str = Field("127.0.0.1", description="address of the worker's Prometheus endpoint")
    settlement_worker_metrics_port: int = Field(9464, description="port of the worker's Prometheus endpoint")
    settlement_sim_url: str = "http://127.0.0.1:8100"
    settlement_api_url: str = "http://127.0.0.1:8000"
    settlement_sim_carrier: str = Field("auto", pattern="^(auto|manual)$")
    settlement_sim_ship_after_seconds: float = 5.0
    settlement_sim_deliver_after_seconds: float = 10.0

    settlement_seller_response_window: timedelta = Field(timedelta(days=3), description="seller's time to answer a dispute")
    settlement_resolution_window: timedelta = Field(timedelta(days=7), description="operator's time to decide a dispute")
    settlement_return_window: timedelta = Field(timedelta(days=14), description="time for a return to ship")
    settlement_return_transit_window: timedelta = Field(timedelta(days=14), description="time for a shipped return to arrive")
    settlement_late_delivery_compensation_bps: int = Field(1000, ge=0, le=10_000, description="buyer's compensation for late delivery")
    settlement_lost_after_late: timedelta = Field(timedelta(days=14), description="after deliver_by, when a parcel counts as lost")

    settlement_provider_max_attempts: int = Field(10, ge=1, le=100, description="provider call attempts before needs_attention")
    settlement_provider_max_backoff: timedelta = Field(timedelta(seconds=60), description="longest wait between provider attempts")

    settlement_data_dir: str = ".data"
    settlement_default_ship_within: timedelta = Field(timedelta(days=5), description="ship_by when the order gives none (ISO 8601)")
    settlement_default_deliver_within: timedelta = Field(timedelta(days=9), description="deliver_by after ship_by when none is given")
    settlement_default_confirmation_window: timedelta = Field(timedelta(days=7), description="buyer's confirmation window")


    @property
    def local_postgres_dir(self) -> Path:
        """Where `make run` keeps its embedded PostgreSQL."""
        return Path(self.settlement_data_dir).resolve() / "pg"

    @property
    def local_payload_keys_file(self) -> Path:
        """Where `make run` keeps its payload-encryption key."""
        return Path(self.settlement_data_dir).resolve() / "payload-keys"


@lru_cache
def get_settings() -> Settings:
    return Settings()
