"""Settings: read once from the environment, with errors that name the setting."""

from __future__ import annotations

import pytest

from shared.settings import DEFAULT_X_API_BASE_URL, Settings, SettingsError


def test_defaults_point_at_x_and_read_table_and_queue() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t", "FETCH_QUEUE_URL": "q"})
    assert (settings.table_name, settings.queue_url) == ("t", "q")
    assert settings.x_api_base_url == DEFAULT_X_API_BASE_URL == "https://api.x.com"


def test_the_x_base_url_can_point_at_any_x_compatible_server() -> None:
    settings = Settings.from_env({"TABLE_NAME": "t", "X_API_BASE_URL": "http://127.0.0.1:8787/"})
    assert settings.x_api_base_url == "http://127.0.0.1:8787"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "TABLE_NAME is not set"),
        ({"TABLE_NAME": "t", "X_API_BASE_URL": "ftp://x"}, "X_API_BASE_URL"),
        ({"TABLE_NAME": "t", "SYNC_INTERVAL_MINUTES": "soon"}, "SYNC_INTERVAL_MINUTES must be an integer"),
        ({"TABLE_NAME": "t", "SYNC_LEASE_SECONDS": "5"}, "at least 60"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)

    assert message in str(refused.value)
