"""The adapter registry: register, resolve, list, remove; manifests; atomic JSON storage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.finetune import AdapterRegistry, default_root


def adapter(folder: Path, base: str = "tiny/base") -> Path:
    folder.mkdir(parents=True)
    config = {"base_model_name_or_path": base, "peft_type": "LORA", "r": 8}
    (folder / "adapter_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_round_trip(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "reg")
    first = adapter(tmp_path / "run1")
    entry = registry.register("support-v1", first, {"metrics": {"eval_loss": 0.4}})
    assert entry.path == first.resolve()
    assert entry.manifest["base_model"] == "tiny/base"
    assert entry.manifest["metrics"] == {"eval_loss": 0.4}
    assert "created" in entry.manifest
    reopened = AdapterRegistry(tmp_path / "reg")
    assert reopened.resolve("support-v1") == first.resolve()
    assert [e.name for e in reopened.list()] == ["support-v1"]
    assert "support-v1" in reopened and len(reopened) == 1
    assert reopened.get("support-v1").manifest == entry.manifest
    stored = json.loads((tmp_path / "reg" / "registry.json").read_text(encoding="utf-8"))
    assert stored["adapters"]["support-v1"]["path"] == str(first.resolve())
    assert not list((tmp_path / "reg").glob("*.tmp"))


def test_reregister_list_and_remove(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "reg")
    one, two = adapter(tmp_path / "one"), adapter(tmp_path / "two", base="other/base")
    registry.register("b-model", one)
    registry.register("a-model", two)
    registry.register("b-model", two)  # re-pointing a name replaces the entry
    assert [(e.name, e.path) for e in registry.list()] == [
        ("a-model", two.resolve()),
        ("b-model", two.resolve()),
    ]
    registry.remove("a-model")
    assert [e.name for e in registry.list()] == ["b-model"]
    assert two.exists()  # removing never deletes the folder
    with pytest.raises(UsageError, match="no adapter named 'a-model'"):
        registry.remove("a-model")


def test_manifest_file_in_the_folder_is_used(tmp_path: Path) -> None:
    folder = adapter(tmp_path / "run")
    (folder / "manifest.json").write_text(json.dumps({"base_model": "x/y", "steps": 30}))
    entry = AdapterRegistry(tmp_path / "reg").register("run", folder)
    assert entry.manifest["base_model"] == "x/y" and entry.manifest["steps"] == 30


def test_resolve_paths_and_errors(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "reg")
    folder = adapter(tmp_path / "run")
    assert registry.resolve(folder) == folder.resolve()
    registry.register("support", folder)
    with pytest.raises(UsageError, match=r"did you mean 'support'\?"):
        registry.resolve("suport")
    with pytest.raises(UsageError, match="invalid adapter name"):
        registry.register("bad name/with slash", folder)
    with pytest.raises(UsageError, match="does not exist"):
        registry.register("ghost", tmp_path / "ghost")
    with pytest.raises(UsageError, match="JSON-serialisable"):
        registry.register("obj", folder, {"when": object()})
    moved = tmp_path / "moved"
    folder.rename(moved)
    with pytest.raises(UsageError, match="no longer exists"):
        registry.resolve("support")


def test_corrupt_registry_file_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    root.mkdir()
    (root / "registry.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match=r"not valid JSON.*repair or delete it"):
        AdapterRegistry(root).list()


def test_default_root_follows_agentkit_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(tmp_path / "home"))
    assert default_root() == tmp_path / "home" / "adapters"
    assert AdapterRegistry().file == tmp_path / "home" / "adapters" / "registry.json"
    monkeypatch.delenv("AGENTKIT_CACHE_DIR")
    assert default_root() == Path.home() / ".cache" / "agentkit" / "adapters"
