"""runtime/temporal_connection.py: where and how to reach Temporal comes from Temporal's environment configuration
(the TEMPORAL_* variables over a configuration file's profile), for the dev server, Temporal Cloud and mTLS alike."""

import secrets

import pytest
from temporalio.service import TLSConfig

from runtime.settings import Settings
from runtime.temporal_connection import DEV_SERVER_ADDRESS, connect_config

SETTINGS = Settings(settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32))
LOCAL = SETTINGS.model_copy(update={"settlement_local_mode": True})

PROFILES = """
[profile.default]
address = "temporal.internal:7233"
namespace = "settlement-prod"

[profile.cloud]
address = "settlement.a1b2c.tmprl.cloud:7233"
namespace = "settlement.a1b2c"
api_key = "from-the-file"
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "temporal.toml"
    path.write_text(PROFILES)
    return str(path)


def test_nothing_configured_is_the_local_dev_server():
    assert connect_config(SETTINGS, {}) == {"target_host": DEV_SERVER_ADDRESS}


def test_address_and_namespace_as_make_run_and_the_test_stacks_set_them():
    env = {"TEMPORAL_ADDRESS": "127.0.0.1:7555", "TEMPORAL_NAMESPACE": "it"}
    assert connect_config(SETTINGS, env) == {"target_host": "127.0.0.1:7555", "namespace": "it"}


def test_temporal_cloud_with_an_api_key_turns_tls_on():
    env = {"TEMPORAL_ADDRESS": "eu-west-1.aws.api.temporal.io:7233", "TEMPORAL_NAMESPACE": "settlement.a1b2c", "TEMPORAL_API_KEY": "key"}
    assert connect_config(SETTINGS, env) == {
        "target_host": "eu-west-1.aws.api.temporal.io:7233",
        "namespace": "settlement.a1b2c",
        "api_key": "key",
        "tls": True,
    }


def test_mtls_reads_the_client_certificate_key_and_server_ca(tmp_path):
    for name in ("client.pem", "client.key", "ca.pem"):
        (tmp_path / name).write_text(f"-----{name}-----")
    env = {
        "TEMPORAL_ADDRESS": "temporal.internal:7233",
        "TEMPORAL_NAMESPACE": "settlement",
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(tmp_path / "client.pem"),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(tmp_path / "client.key"),
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(tmp_path / "ca.pem"),
        "TEMPORAL_TLS_SERVER_NAME": "temporal.internal",
    }
    tls = connect_config(SETTINGS, env)["tls"]
    assert tls == TLSConfig(
        client_cert=b"-----client.pem-----",
        client_private_key=b"-----client.key-----",
        server_root_ca_cert=b"-----ca.pem-----",
        domain="temporal.internal",
    )


def test_a_profile_of_the_configuration_file_and_the_variables_over_it(config_file):
    assert connect_config(SETTINGS, {"TEMPORAL_CONFIG_FILE": config_file}) == {
        "target_host": "temporal.internal:7233",
        "namespace": "settlement-prod",
    }
    cloud = connect_config(SETTINGS, {"TEMPORAL_CONFIG_FILE": config_file, "TEMPORAL_PROFILE": "cloud", "TEMPORAL_API_KEY": "from-env"})
    assert cloud == {
        "target_host": "settlement.a1b2c.tmprl.cloud:7233",
        "namespace": "settlement.a1b2c",
        "api_key": "from-env",
        "tls": True,
    }


def test_make_run_reads_the_variables_only_never_a_developers_profile(config_file):
    env = {"TEMPORAL_CONFIG_FILE": config_file, "TEMPORAL_PROFILE": "cloud", "TEMPORAL_ADDRESS": "127.0.0.1:7233"}
    assert connect_config(LOCAL, env) == {"target_host": "127.0.0.1:7233"}


@pytest.mark.parametrize(
    "env",
    [
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/client.pem"},
        {"TEMPORAL_PROFILE": "no-such-profile"},
    ],
)
def test_an_unusable_configuration_refuses_to_start_with_one_line(env, config_file):
    with pytest.raises(SystemExit) as refused:
        connect_config(SETTINGS, {"TEMPORAL_CONFIG_FILE": config_file, **env})
    message = str(refused.value)
    assert message.startswith("settlement: refusing to start: the Temporal connection configuration") and "\n" not in message
