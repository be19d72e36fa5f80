"""The app's settings: which chain, index, history file, eval runs folder and model.

``agentkit app --index DIR ...`` starts ``streamlit run main.py -- --index DIR ...``; the
script reads those arguments. Each setting can also come from an environment variable
(``AGENTKIT_APP_INDEX`` ...), which is how headless tests configure the app. Arguments win
over the environment, which wins over the defaults (under ``$AGENTKIT_APP_HOME``, else
``<agentkit cache>/app``).

The access token (``agentkit app --auth-token``) is not a setting: it reaches the script
only through the environment (``$AGENTKIT_APP_TOKEN``, :data:`TOKEN_ENV`), never through
its arguments, which any local user can read in the process list (see
:mod:`agentkit.app.auth`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from agentkit.core.errors import UsageError

EMBEDDERS = ("default", "hashing")
ENV_PREFIX = "AGENTKIT_APP_"
TOKEN_ENV = ENV_PREFIX + "TOKEN"


def app_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where the app keeps its history, uploads and default index."""
    env = os.environ if environ is None else environ
    home = env.get(ENV_PREFIX + "HOME")
    if home:
        return Path(home).expanduser()
    cache = env.get("AGENTKIT_CACHE_DIR")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache" / "agentkit"
    return base / "app"


def main_script() -> Path:
    """The file ``streamlit run`` starts: ``agentkit/app/main.py``, which ships inside the
    installed package. Computed here, so the commands find it without importing the UI."""
    return Path(__file__).resolve().parents[1] / "app" / "main.py"


def history_file(home: Path, index: Path, chain: str | None) -> Path:
    """The chat history of one index and chain: ``<home>/chats/<index name>-<hash>.sqlite``
    (the hash of the index's absolute path and the chain), so the chats of two indexes, or
    of a custom chain and the built-in ones, never mix."""
    where = str(index.expanduser().resolve())
    digest = hashlib.sha256(f"{where}\n{chain or ''}".encode()).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", index.name).strip("-")[:40] or "index"
    return home / "chats" / f"{name}-{digest}.sqlite"


def uploads_folder(index: Path) -> Path:
    """Where uploads for ``index`` are saved: the sibling folder ``<index>-uploads``."""
    index = index.expanduser()
    return index.parent / f"{index.name or 'index'}-uploads"


def _path(name: str, value: object) -> Path:
    return Path(str(value)).expanduser()


def _text(name: str, value: object) -> str | None:
    return None if value is None else str(value)


def _whole(name: str, value: object) -> int:
    try:
        return int(str(value))
    except ValueError as e:
        raise UsageError(f"{name} must be an integer, got {value!r}") from e


def _setting(convert: Callable[[str, object], object]) -> dict[str, object]:
    """A setting's field metadata: how a string (argument, variable) becomes its value."""
    return {"convert": convert}


@dataclass(frozen=True)
class AppSettings:
    """What one app process works on.

    Attributes:
        chain: a chain spec file or ``module:function`` (``None``: the built-in chains).
        index: the index folder the built-in chains search and the Documents page fills.
        history: the SQLite file of chat sessions; by default one per index and chain
            (:func:`history_file`).
        runs: the folder whose eval runs the Evaluations page lists.
        uploads: where uploaded files are saved before they are ingested; by default next
            to the index (:func:`uploads_folder`).
        model: the model spec the sidebar starts with (``auto`` by default).
        embedder: the embedder of a new index: ``default`` (MiniLM) or ``hashing``.
        max_upload_mb: the size limit of one uploaded file.
    """

    index: Path = field(metadata=_setting(_path))
    history: Path = field(metadata=_setting(_path))
    runs: Path = field(metadata=_setting(_path))
    uploads: Path = field(metadata=_setting(_path))
    chain: str | None = field(default=None, metadata=_setting(_text))
    model: str = field(default="auto", metadata=_setting(_text))
    embedder: str = field(default="default", metadata=_setting(_text))
    max_upload_mb: int = field(default=20, metadata=_setting(_whole))

    def __post_init__(self) -> None:
        if self.embedder not in EMBEDDERS:
            raise UsageError(
                f"embedder must be one of {', '.join(EMBEDDERS)}, got {self.embedder!r}"
            )
        if self.max_upload_mb < 1:
            raise UsageError(f"max_upload_mb must be at least 1, got {self.max_upload_mb}")

    @classmethod
    def defaults(cls, environ: Mapping[str, str] | None = None) -> AppSettings:
        home = app_home(environ)
        index = home / "index"
        return cls(
            index=index,
            history=history_file(home, index, None),
            runs=Path("runs"),
            uploads=uploads_folder(index),
        )

    @classmethod
    def load(
        cls, argv: Sequence[str] = (), environ: Mapping[str, str] | None = None
    ) -> AppSettings:
        """Settings from command-line arguments over environment variables over defaults.
        The history and uploads not given follow the index (and chain) given."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for item in fields(cls):
            raw = env.get(ENV_PREFIX + item.name.upper())
            if raw:
                values[item.name] = raw
        values.update({k: v for k, v in vars(_parser().parse_args(list(argv))).items() if v})
        settings = cls.defaults(env).updated(**values)
        home = app_home(env)
        history = settings.history if "history" in values else None
        uploads = settings.uploads if "uploads" in values else None
        return replace(
            settings,
            history=history or history_file(home, settings.index, settings.chain),
            uploads=uploads or uploads_folder(settings.index),
        )

    def updated(self, **values: object) -> AppSettings:
        """A copy with some settings replaced (strings are converted)."""
        known = {item.name: item.metadata["convert"] for item in fields(self)}
        converted: dict[str, object] = {}
        for name, value in values.items():
            if name not in known:
                raise UsageError(f"unknown app setting {name!r}")
            converted[name] = known[name](name, value)
        return replace(self, **converted)  # type: ignore[arg-type]

    def to_args(self) -> list[str]:
        """The script arguments that reproduce these settings (unset ones left out)."""
        args: list[str] = []
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and value != "":
                args += [_flag(item.name), str(value)]
        return args


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"bad app arguments: {message}; see agentkit app --help")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="agentkit app", add_help=False)
    for item in fields(AppSettings):
        parser.add_argument(_flag(item.name), dest=item.name)
    return parser
