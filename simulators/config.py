"""The simulators' own settings (they import nothing of the engine but domain)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.reference_rates import DEFAULT_SPREAD_BPS


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str
    settlement_api_url: str = "http://127.0.0.1:8000"
    settlement_webhook_secret: str = "dev-only-webhook-secret-change-me"
    settlement_sim_carrier: str = Field("auto", pattern="^(auto|manual)$")
    settlement_sim_ship_after_seconds: float = 5.0
    settlement_sim_deliver_after_seconds: float = 10.0
    settlement_sim_latency_ms: int = 0
    settlement_sim_failure_rate: float = 0.0
    settlement_sim_fx_spread_bps: int = Field(DEFAULT_SPREAD_BPS, ge=0, le=10_000)
