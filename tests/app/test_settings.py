"""AppSettings: every setting converts, round-trips through the script arguments and
rejects bad values with the setting's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.workspace.settings import AppSettings


def full(tmp_path: Path) -> AppSettings:
    return AppSettings.defaults({"AGENTKIT_APP_HOME": str(tmp_path)}).updated(
        chain="pkg.mod:build", model="extractive", embedder="hashing", max_upload_mb="7"
    )


def test_updated_converts_each_setting(tmp_path: Path) -> None:
    settings = full(tmp_path).updated(runs="~/runs", index=tmp_path / "ix")
    assert settings.runs == Path("~/runs").expanduser() and settings.index == tmp_path / "ix"
    assert settings.max_upload_mb == 7 and settings.chain == "pkg.mod:build"
    assert settings.updated(chain=None).chain is None


def test_every_setting_round_trips_through_the_arguments(tmp_path: Path) -> None:
    settings = full(tmp_path)
    args = settings.to_args()
    assert args[args.index("--max-upload-mb") + 1] == "7"
    assert args[args.index("--chain") + 1] == "pkg.mod:build"
    assert AppSettings.load(args, {}) == settings
    assert "--chain" not in settings.updated(chain=None).to_args()


def test_bad_values_name_the_setting(tmp_path: Path) -> None:
    settings = full(tmp_path)
    with pytest.raises(UsageError, match="max_upload_mb must be an integer, got 'ten'"):
        settings.updated(max_upload_mb="ten")
    with pytest.raises(UsageError, match="unknown app setting 'token'"):
        settings.updated(token="secret")
    with pytest.raises(UsageError, match="max_upload_mb must be at least 1"):
        AppSettings.load(["--max-upload-mb", "0"], {"AGENTKIT_APP_HOME": str(tmp_path)})
    with pytest.raises(UsageError, match="bad app arguments"):
        AppSettings.load(["--max_upload_mb", "5"], {})  # the flag is --max-upload-mb
