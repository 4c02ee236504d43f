"""Settings loading for deployments: secrets from `<VAR>_FILE`, and placeholder or short secrets refused."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from strata_server.common.config import MIN_PEPPER_BYTES, SECRET_VARIABLES, ConfigError, Settings
from strata_server.ingest.metrics.group import committers_of

PEPPER = "0123456789abcdef" * 4  # 64 characters, as `openssl rand -hex 32` prints
DSN = "postgresql://strata:s3cret@db:5432/strata"


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_every_secret_is_read_from_its_file_with_the_trailing_newline_stripped(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("STRATA_S3_ENDPOINT", "minio:9000")
    clean_env.setenv("STRATA_PG_DSN_FILE", _file(tmp_path, "dsn", DSN + "\n"))
    clean_env.setenv("STRATA_S3_ACCESS_KEY_FILE", _file(tmp_path, "ak", "access\n"))
    clean_env.setenv("STRATA_S3_SECRET_KEY_FILE", _file(tmp_path, "sk", "secret-key\r\n"))
    clean_env.setenv("STRATA_API_KEY_PEPPER_FILE", _file(tmp_path, "pepper", PEPPER + "\n"))
    s = Settings.from_env()
    assert s.pg_dsn == DSN
    assert s.s3 is not None and (s.s3.access_key, s.s3.secret_key) == ("access", "secret-key")
    assert s.api_key_pepper == PEPPER


def test_secrets_from_plain_variables_still_work(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("STRATA_PG_DSN", DSN)
    clean_env.setenv("STRATA_API_KEY_PEPPER", PEPPER)
    s = Settings.from_env()
    assert (s.pg_dsn, s.api_key_pepper) == (DSN, PEPPER)


@pytest.mark.parametrize("name", SECRET_VARIABLES)
def test_setting_a_secret_and_its_file_is_refused(
    name: str, clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("STRATA_S3_ENDPOINT", "minio:9000")
    clean_env.setenv(name, PEPPER)
    clean_env.setenv(f"{name}_FILE", _file(tmp_path, "value", PEPPER))
    with pytest.raises(ConfigError, match=f"{name} and {name}_FILE are both set"):
        Settings.from_env()


@pytest.mark.parametrize("name", SECRET_VARIABLES)
def test_a_placeholder_secret_is_refused_at_start(name: str, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("STRATA_S3_ENDPOINT", "minio:9000")
    clean_env.setenv(name, "postgresql://strata:CHANGE-ME@db/strata-padding-to-be-long-enough")
    with pytest.raises(ConfigError, match=f"{name} still holds the placeholder"):
        Settings.from_env()


def test_a_placeholder_in_a_secret_file_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv(
        "STRATA_API_KEY_PEPPER_FILE", _file(tmp_path, "p", "change-me-to-64-hex-characters-" * 2)
    )
    with pytest.raises(ConfigError, match="placeholder"):
        Settings.from_env()


def test_a_short_pepper_is_refused_at_start(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("STRATA_API_KEY_PEPPER", "x" * (MIN_PEPPER_BYTES - 1))
    with pytest.raises(ConfigError, match=f"shorter than {MIN_PEPPER_BYTES} bytes"):
        Settings.from_env()


def test_a_missing_or_empty_secret_file_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("STRATA_PG_DSN_FILE", str(tmp_path / "absent"))
    with pytest.raises(ConfigError, match="cannot read STRATA_PG_DSN_FILE"):
        Settings.from_env()
    clean_env.setenv("STRATA_PG_DSN_FILE", _file(tmp_path, "empty", "\n"))
    with pytest.raises(ConfigError, match=r"STRATA_PG_DSN_FILE .* is empty"):
        Settings.from_env()


def test_the_embedded_default_needs_no_secret(clean_env: pytest.MonkeyPatch) -> None:
    """No DSN (embedded PostgreSQL), no S3 (blob folder), no pepper (generated into the data folder)."""
    s = Settings.from_env()
    assert (s.pg_dsn, s.s3, s.api_key_pepper) == (None, None, None)


def test_a_config_error_stops_the_process_with_its_message(clean_env: pytest.MonkeyPatch) -> None:
    """ConfigError is a SystemExit: the message is printed and the status is 1, without a traceback."""
    clean_env.setenv("STRATA_API_KEY_PEPPER", "short")
    with pytest.raises(SystemExit) as raised:
        Settings.from_env()
    assert "STRATA_API_KEY_PEPPER" in str(raised.value.code)


@pytest.mark.parametrize("value", ["0", "65", "two", "1.5"])
def test_a_committer_count_out_of_range_or_not_a_number_is_refused(
    value: str, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("STRATA_INGEST_COMMITTERS", value)
    with pytest.raises(ConfigError, match="STRATA_INGEST_COMMITTERS"):
        Settings.from_env()


def test_the_ingest_process_runs_as_many_committers_as_configured(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("STRATA_INGEST_COMMITTERS", "5")
    settings = Settings.from_env()
    deps = SimpleNamespace(settings=settings, pool=None, extras={})  # what committers_of reads
    assert settings.ingest_committers == 5 and len(committers_of(deps).all) == 5  # type: ignore[arg-type]
