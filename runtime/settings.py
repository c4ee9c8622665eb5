"""Every setting of the engine, read from environment variables (see the README's configuration table)."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.currency import CONVERTIBLE
from domain.order_request import DEFAULT_POLICY
from domain.secrets import GENERATE, check_secret, check_secret_list, configuration_error
from domain.surges import SurgeRule


def origin(url: str) -> str:
    """The browser origin of a URL: scheme://host[:port]."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


class LocalData(BaseSettings):
    """Where `make run` keeps its state and its generated secrets (readable before the other settings are)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    settlement_data_dir: str = Field(".data", description="where make run keeps PostgreSQL, Temporal, its secrets and logs")

    @property
    def local_dir(self) -> Path:
        return Path(self.settlement_data_dir).resolve()

    @property
    def local_postgres_dir(self) -> Path:
        """Where `make run` keeps its embedded PostgreSQL."""
        return self.local_dir / "pg"

    @property
    def local_payload_keys_file(self) -> Path:
        """Where `make run` keeps its payload-encryption key."""
        return self.local_dir / "payload-keys"

    @property
    def local_secret_files(self) -> dict[str, Path]:
        """make run's generated secrets, by the setting each one fills."""
        return {
            "settlement_jwt_secret": self.local_dir / "jwt-secret",
            "settlement_webhook_secret": self.local_dir / "webhook-secret",
            "settlement_payload_keys": self.local_payload_keys_file,
        }

    @property
    def local_engine_db_password_file(self) -> Path:
        """The password of make run's restricted database login role (settlement_app)."""
        return self.local_dir / "db-engine-password"

    def local_secrets(self) -> dict[str, str]:
        """The secrets make run generated, by setting name (those that exist)."""
        return {name: path.read_text().strip() for name, path in self.local_secret_files.items() if path.exists()}


class Settings(LocalData):
    database_url: str | None = Field(
        None, description="the engine's PostgreSQL DSN (API, worker): a restricted role; unset: the launcher starts embedded PostgreSQL"
    )
    database_owner_url: str | None = Field(
        None, description="the owner's DSN: migrations and make run's creation of the engine's login role; unset: DATABASE_URL"
    )
    # The processes connect through Temporal's environment configuration (runtime/temporal_connection.py), which reads
    # the same TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE; these two tell make run whether to start the dev server and
    # which namespace it serves and the UI links name.
    temporal_address: str | None = Field(None, description="host:port of Temporal; unset: make run starts the dev server")
    temporal_namespace: str = Field("default", description="Temporal namespace (dev server's, UI links')")
    temporal_task_queue: str = "settlement"
    temporal_ui_url: str = "http://127.0.0.1:8233"

    settlement_local_mode: bool = Field(False, description="set by make run for its own processes only; never in a deployment")

    settlement_jwt_secret: str | None = Field(None, description="HS256 secret of the bearer tokens; required unless JWKS is used")
    settlement_jwt_issuer: str = Field("settlement-local", description="the `iss` every token must carry")
    settlement_jwt_audience: str = Field("settlement-api", description="the `aud` every token must carry")
    settlement_jwt_jwks_url: str | None = Field(
        None, description="an identity provider's JWKS: tokens are then RS256, verified against it, and HS256 is off"
    )
    settlement_operator_token_max_ttl: timedelta = Field(
        timedelta(hours=12), gt=timedelta(0), description="longest lifetime `settlement token` gives an operator token"
    )
    settlement_webhook_secret: str | None = Field(None, description="webhook signing secret; `new,old` during a rotation")
    settlement_payments_webhook_secret: str | None = Field(
        None, description="the payment provider's webhook signing secret; `new,old` during a rotation; unset: SETTLEMENT_WEBHOOK_SECRET"
    )
    settlement_webhook_tolerance_seconds: int = 300
    settlement_payments_provider: Literal["simulated", "stripe"] = Field(
        "simulated", description="who moves the money: the simulated provider, or Stripe Connect (needs the two settings below)"
    )
    settlement_stripe_api_key: str | None = Field(
        None, description="Stripe's secret key (`sk_test_…` in test mode) when the provider is stripe"
    )
    settlement_stripe_webhook_secret: str | None = Field(
        None, description="the signing secret (`whsec_…`) of the Stripe webhook endpoint that sends disputes to /v1/webhooks/stripe"
    )
    settlement_fulfillment_network: Literal["simulated", "amazon"] = Field(
        "simulated", description="who ships the goods: the simulated network, or Amazon's Multi-Channel Fulfillment (the settings below)"
    )
    settlement_amazon_endpoint: str = Field(
        "https://sellingpartnerapi-na.amazon.com", description="the SP-API's regional endpoint (-na, -eu or -fe)"
    )
    settlement_amazon_marketplace_id: str = Field("ATVPDKIKX0DER", description="the marketplace the orders are for (default: amazon.com)")
    settlement_amazon_lwa_client_id: str | None = Field(None, description="the Login with Amazon app's client id")
    settlement_amazon_lwa_client_secret: str | None = Field(None, description="the Login with Amazon app's client secret")
    settlement_amazon_lwa_refresh_token: str | None = Field(None, description="the selling partner's refresh token (`Atzr|…`)")
    settlement_amazon_lwa_token_url: str = Field(
        "https://api.amazon.com/auth/o2/token", description="where refresh tokens are exchanged for access tokens"
    )
    settlement_amazon_poll_interval: timedelta = Field(
        timedelta(minutes=2), gt=timedelta(0), description="how often each order awaiting its parcel is read from Amazon"
    )
    settlement_amazon_reads_per_second: float = Field(
        2.0,
        gt=0,
        le=100,
        description="orders each worker reads from Amazon a second: getFulfillmentOrder and getPackageTrackingDetails allow 2 each",
    )

    settlement_reporting_currency: str = Field(
        "USD", description="the currency the insights add volumes up in, at the FX source's reference rates (a convertible one)"
    )
    settlement_surge_interval: timedelta = Field(
        timedelta(hours=1),
        description="the interval surges are judged over (hourly intervals compare each hour with that hour on earlier days)",
    )
    settlement_surge_alpha: float = Field(0.3, gt=0, le=1, description="weight of the newest interval in a region's baseline")
    settlement_surge_threshold: float = Field(4.5, gt=0, description="how many deviations above its baseline a surging region stands")
    settlement_surge_min_orders: int = Field(10, ge=1, description="fewer orders in an interval are never a surge")
    settlement_surge_min_rise: float = Field(0.5, ge=0, description="a surge has at least this share more orders than the baseline")

    settlement_payload_keys: str | None = Field(
        None, description="AES-256-GCM keys for Temporal payloads, 'kid2:BASE64,kid1:BASE64' (first encrypts); unset: no encryption"
    )
    settlement_codec_ui_origin: str | None = Field(
        None,
        description="origin of the Temporal UI that calls the codec endpoint; unset: the endpoint is off (make run: TEMPORAL_UI_URL's)",
    )
    settlement_codec_allow_anonymous: bool = Field(False, description="make run only: the local UI decodes without a token")

    settlement_api_port: int = 8000
    settlement_sim_port: int = 8100
    settlement_worker_metrics_host: str = Field("127.0.0.1", description="address of the worker's Prometheus endpoint")
    settlement_worker_metrics_port: int = Field(9464, description="port of the worker's Prometheus endpoint")
    settlement_worker_max_cached_workflows: int = Field(
        1000, ge=0, description="open orders the worker keeps in memory; others replay from their history when they wake"
    )
    settlement_sim_url: str = "http://127.0.0.1:8100"
    settlement_webhook_private_urls: bool = Field(
        False, description="let webhook endpoints be on loopback or private addresses (make run does; a deployment should not)"
    )

    # Policy: each default is written once, in the domain (DEFAULT_POLICY); a setting lets a deployment change it.
    settlement_seller_response_window: timedelta = Field(
        DEFAULT_POLICY.after_sales.seller_response_window, description="seller's time to answer a dispute"
    )
    settlement_resolution_window: timedelta = Field(
        DEFAULT_POLICY.after_sales.resolution_window, description="operator's time to decide a dispute"
    )
    settlement_return_window: timedelta = Field(DEFAULT_POLICY.after_sales.return_window, description="time for a return to ship")
    settlement_return_transit_window: timedelta = Field(
        DEFAULT_POLICY.after_sales.return_transit_window, description="time for a shipped return to arrive"
    )
    settlement_late_delivery_compensation_bps: int = Field(
        DEFAULT_POLICY.after_sales.late_delivery_compensation_bps, ge=0, le=10_000, description="buyer's compensation for late delivery"
    )
    settlement_lost_after_late: timedelta = Field(
        DEFAULT_POLICY.after_sales.lost_after_late, description="after deliver_by, when a parcel counts as lost"
    )

    settlement_provider_max_attempts: int = Field(
        DEFAULT_POLICY.provider_retry.maximum_attempts, ge=1, le=100, description="provider call attempts before needs_attention"
    )
    settlement_provider_max_backoff: timedelta = Field(
        DEFAULT_POLICY.provider_retry.maximum_interval, description="longest wait between provider attempts"
    )

    settlement_default_ship_within: timedelta = Field(
        DEFAULT_POLICY.ship_within, description="ship_by when the order gives none (ISO 8601)"
    )
    settlement_default_deliver_within: timedelta = Field(
        DEFAULT_POLICY.deliver_within_after_ship_by, description="deliver_by after ship_by when none is given"
    )
    settlement_default_confirmation_window: timedelta = Field(DEFAULT_POLICY.confirmation_window, description="buyer's confirmation window")

    @field_validator("settlement_jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: str | None) -> str | None:
        return None if value is None else check_secret("SETTLEMENT_JWT_SECRET", value)

    @field_validator("settlement_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        return None if value is None else check_secret_list("SETTLEMENT_WEBHOOK_SECRET", value)

    @field_validator("settlement_payments_webhook_secret")
    @classmethod
    def _payments_webhook_secret(cls, value: str | None) -> str | None:
        return None if value is None else check_secret_list("SETTLEMENT_PAYMENTS_WEBHOOK_SECRET", value)

    @property
    def payments_webhook_secrets(self) -> str:
        """What signs the payment provider's webhooks: its own secret when set, else the shared one."""
        return self.settlement_payments_webhook_secret or self.settlement_webhook_secret or ""

    @field_validator("settlement_codec_ui_origin")
    @classmethod
    def _ui_origin(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.path not in ("", "/") or parts.query:
            raise ValueError("SETTLEMENT_CODEC_UI_ORIGIN is an origin, scheme://host[:port], without a path")
        return origin(value)

    @field_validator("settlement_jwt_jwks_url")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        if value is not None:
            origin(value)
        return value

    @field_validator("settlement_reporting_currency")
    @classmethod
    def _reporting_currency(cls, value: str) -> str:
        if value not in CONVERTIBLE:
            raise ValueError(f"must be a currency the FX source quotes: {', '.join(sorted(CONVERTIBLE))}")
        return value

    @model_validator(mode="after")
    def _secrets_required(self) -> "Settings":
        if self.settlement_jwt_secret is None and self.settlement_jwt_jwks_url is None:
            raise ValueError(f"set SETTLEMENT_JWT_SECRET (or SETTLEMENT_JWT_JWKS_URL for RS256 tokens); {GENERATE}")
        if self.settlement_webhook_secret is None:
            raise ValueError(f"set SETTLEMENT_WEBHOOK_SECRET; {GENERATE}")
        if self.settlement_payments_provider == "stripe" and not (self.settlement_stripe_api_key or "").startswith(("sk_", "rk_")):
            raise ValueError("SETTLEMENT_PAYMENTS_PROVIDER=stripe needs SETTLEMENT_STRIPE_API_KEY, a Stripe secret key (sk_… or rk_…)")
        if self.settlement_fulfillment_network == "amazon" and not self.amazon_credentials_set:
            raise ValueError(
                "SETTLEMENT_FULFILLMENT_NETWORK=amazon needs SETTLEMENT_AMAZON_LWA_CLIENT_ID, SETTLEMENT_AMAZON_LWA_CLIENT_SECRET "
                "and SETTLEMENT_AMAZON_LWA_REFRESH_TOKEN"
            )
        if self.settlement_codec_allow_anonymous and not self.settlement_local_mode:
            raise ValueError(
                "SETTLEMENT_CODEC_ALLOW_ANONYMOUS works only under make run; unset it (the codec endpoint decodes for operator tokens)"
            )
        return self

    @property
    def codec_ui_origin(self) -> str | None:
        """The one browser origin the codec endpoint answers; None: the endpoint is off."""
        if self.settlement_codec_ui_origin:
            return self.settlement_codec_ui_origin
        return origin(self.temporal_ui_url) if self.settlement_local_mode else None

    def surge_rule(self, interval: timedelta) -> SurgeRule:
        """The rule surges are judged by at this interval: hours (or a divisor of a day of at least an hour) are
        compared with the same slot on earlier days; shorter intervals with the intervals just before."""
        day = timedelta(days=1)
        season = day // interval if interval >= timedelta(hours=1) and day % interval == timedelta(0) else 0
        return SurgeRule(
            alpha=self.settlement_surge_alpha,
            threshold=self.settlement_surge_threshold,
            min_orders=self.settlement_surge_min_orders,
            min_rise=self.settlement_surge_min_rise,
            history=14 if season else 48,
            season=season,
        )

    @property
    def amazon_credentials_set(self) -> bool:
        return all(
            (self.settlement_amazon_lwa_client_id, self.settlement_amazon_lwa_client_secret, self.settlement_amazon_lwa_refresh_token)
        )

    @property
    def webhook_private_urls_allowed(self) -> bool:
        return self.settlement_local_mode or self.settlement_webhook_private_urls

    @property
    def codec_anonymous(self) -> bool:
        return self.settlement_local_mode and self.settlement_codec_allow_anonymous


def load_settings(**overrides) -> Settings:
    """The settings from the environment (and overrides); a one-line message and exit status 1 when invalid."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise SystemExit(configuration_error(err)) from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
