"""The simulators' own settings (like every simulator, they import nothing of the engine but domain)."""

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.secrets import check_secret_list, configuration_error
from simulators.reference_rates import DEFAULT_SPREAD_BPS


class SimulatorSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(
        validation_alias=AliasChoices("settlement_sim_database_url", "database_url"),
        description="the simulators' own access (they stand in for outside parties), not the engine's role",
    )
    settlement_api_url: str = "http://127.0.0.1:8000"
    settlement_webhook_secret: str = Field(description="the network signs with the first of `new,old`")
    settlement_payments_webhook_secret: str | None = Field(None, description="the provider signs with the first; unset: the one above")
    settlement_sim_carrier: str = Field("auto", pattern="^(auto|manual)$")
    settlement_sim_ship_after_seconds: float = 5.0
    settlement_sim_deliver_after_seconds: float = 10.0
    settlement_sim_latency_ms: int = 0
    settlement_sim_failure_rate: float = Field(0.0, ge=0.0, le=1.0)
    settlement_sim_ambiguous_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of provider calls performed whose answer is lost")
    settlement_sim_fx_spread_bps: int = Field(DEFAULT_SPREAD_BPS, ge=0, le=10_000)

    @field_validator("settlement_webhook_secret")
    @classmethod
    def _signing_secret(cls, value: str) -> str:
        return check_secret_list("SETTLEMENT_WEBHOOK_SECRET", value).split(",")[0].strip()

    @field_validator("settlement_payments_webhook_secret")
    @classmethod
    def _payments_signing_secret(cls, value: str | None) -> str | None:
        return None if value is None else check_secret_list("SETTLEMENT_PAYMENTS_WEBHOOK_SECRET", value).split(",")[0].strip()


def load_simulator_settings() -> SimulatorSettings:
    """The settings from the environment; a one-line message and exit status 1 when invalid."""
    try:
        return SimulatorSettings()
    except ValidationError as err:
        raise SystemExit(configuration_error(err)) from None
