"""The chaos run's knobs (CHAOS_* environment variables) and the engine settings it runs with."""

import os
import random
from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class ChaosConfig:
    """Each field is read from CHAOS_<NAME> (e.g. CHAOS_ORDERS=300)."""

    orders: int = 300
    concurrency: int = 40  # orders in flight at once
    time_limit: float = 600.0  # seconds for the orders to finish; past it the run stops and fails
    kill_every: float = 6.0  # mean seconds between two SIGKILLs of the worker; 0: never
    failure_rate: float = 0.1  # provider calls answered 503 before anything is done
    ambiguous_rate: float = 0.1  # provider calls performed whose answer is lost (503 or dropped connection)
    temporal_restarts: int = 1
    postgres_restarts: int = 1
    downtime: float = 3.0  # seconds a restarted server stays down
    seed: int = field(default_factory=lambda: random.randrange(1_000_000))
    log_dir: str = ""  # default: a new temporary directory (kept, for the logs)
    fulfillment: str = "simulated"  # or "amazon": the worker ships through the simulated SP-API and polls it

    @classmethod
    def from_env(cls, env: dict[str, str] = os.environ) -> "ChaosConfig":
        values = {}
        for f in fields(cls):
            raw = env.get(f"CHAOS_{f.name.upper()}")
            if raw is not None:
                values[f.name] = f.type(raw)
        return cls(**values)


def engine_settings(config: ChaosConfig) -> dict[str, str]:
    return {
        "SETTLEMENT_SIM_FAILURE_RATE": str(config.failure_rate),
        "SETTLEMENT_SIM_AMBIGUOUS_RATE": str(config.ambiguous_rate),
        # The after-sales deadlines lapse only if the runner's people are late by far: every path's outcome is
        # decided by them (the auto path's own confirmation window, a few seconds, is the one that lapses).
        "SETTLEMENT_SELLER_RESPONSE_WINDOW": "PT30M",
        "SETTLEMENT_RESOLUTION_WINDOW": "PT30M",
        "SETTLEMENT_RETURN_WINDOW": "PT30M",
        "SETTLEMENT_RETURN_TRANSIT_WINDOW": "PT30M",
        # Faults never exhaust a provider call's retry budget: an order parks only where its path parks.
        "SETTLEMENT_PROVIDER_MAX_ATTEMPTS": "40",
        "SETTLEMENT_PROVIDER_MAX_BACKOFF": "PT2S",
        "SETTLEMENT_WEBHOOK_PRIVATE_URLS": "true",  # the marketplace's webhook receiver is the runner, on 127.0.0.1
        **(AMAZON_SETTINGS if config.fulfillment == "amazon" else {}),
    }


# Amazon's network played by the simulators' SP-API ({sim_url}: filled in once the simulators have their port).
AMAZON_SETTINGS = {
    "SETTLEMENT_FULFILLMENT_NETWORK": "amazon",
    "SETTLEMENT_AMAZON_ENDPOINT": "{sim_url}/amazon",
    "SETTLEMENT_AMAZON_LWA_TOKEN_URL": "{sim_url}/amazon/auth/o2/token",
    "SETTLEMENT_AMAZON_LWA_CLIENT_ID": "amzn1.application-oa2-client.chaos",
    "SETTLEMENT_AMAZON_LWA_CLIENT_SECRET": "chaos-client-secret",
    "SETTLEMENT_AMAZON_LWA_REFRESH_TOKEN": "Atzr|chaos",
    "SETTLEMENT_AMAZON_POLL_INTERVAL": "PT1S",
    "SETTLEMENT_AMAZON_READS_PER_SECOND": "50",  # the simulated SP-API has no rate limit
}
