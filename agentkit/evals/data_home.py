"""Where eval suites find their data, and where to download it when it is missing.

A dataset is looked for at, in order: an explicit path (``--dataset``, a factory's
``path=``); ``$AGENTKIT_DATA_DIR/<name>``; the suite file's own path (``../shared/data/...``);
``../shared/data/<name>`` beside the checkout. When none exists the error names every place
tried and, for the bundled datasets, the official download URL and its checksum.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agentkit.core.errors import UsageError

ENV = "AGENTKIT_DATA_DIR"
LEGACY_ENV = "AGENTKIT_SHARED_DATA"  # the earlier name, still read
CHECKOUT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@dataclass(frozen=True)
class KnownDataset:
    """A dataset the bundled suites use: its path under the data folder and its source."""

    name: str  # relative path under the data folder
    url: str
    checksum: str  # "<algorithm>:<hex>" of the file at url
    how: str  # what to do with the download


KNOWN = (
    KnownDataset(
        "squad-v1.1-dev/dev-v1.1.json.gz",
        "https://rajpurkar.github.io/SQuAD-explorer/dataset/dev-v1.1.json",
        "sha256:95aa6a52d5d6a735563366753ca50492a658031da74f301ac5238b03966972c9",
        "gzip it to squad-v1.1-dev/dev-v1.1.json.gz (or pass the .json with --dataset)",
    ),
    KnownDataset(
        "scifact-beir",
        "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip",
        "md5:5f7d1de60b170fc8027bb7898e2efca1",
        "unzip it and rename the scifact/ folder to scifact-beir/",
    ),
)


def data_dirs() -> list[Path]:
    """The data folders searched after an explicit path: ``$AGENTKIT_DATA_DIR`` (or the
    legacy ``$AGENTKIT_SHARED_DATA``), then ``../shared/data`` beside the checkout."""
    found = [Path(v).expanduser() for v in (os.environ.get(ENV), os.environ.get(LEGACY_ENV)) if v]
    return [*found, CHECKOUT_DATA]


def known(path: Path | str) -> KnownDataset | None:
    """The known dataset ``path`` points at (by its trailing components), if any."""
    text = Path(path).as_posix().rstrip("/")
    for dataset in KNOWN:
        if text == dataset.name or text.endswith("/" + dataset.name):
            return dataset
    return None


def find_data(name: str | Path, explicit: str | Path | None = None) -> Path:
    """The first existing candidate for the dataset ``name`` (a path under the data folder,
    or a suite's dataset path): ``explicit``, then each :func:`data_dirs` folder, then
    ``name`` itself. Raises :class:`UsageError` listing the places tried and how to get it."""
    if explicit is not None:
        target = Path(explicit).expanduser()
        dataset = known(target) or known(name)
        if target.exists() or dataset is None:
            return target  # a file of the user's own: its loader names what is wrong
        raise missing_data(dataset, [target], explicit=True)
    dataset = known(name)
    relative = Path(dataset.name) if dataset else Path(Path(name).name)
    tried = [folder / relative for folder in data_dirs()]
    if Path(name).is_absolute() or len(Path(name).parts) > 1:
        tried.insert(len(tried) - 1, Path(name))  # a suite's own path, before the default
    seen: list[Path] = []
    for candidate in tried:
        if candidate in seen:
            continue
        seen.append(candidate)
        if candidate.exists():
            return candidate
    raise missing_data(dataset, seen)


def missing_data(
    dataset: KnownDataset | None, tried: list[Path], explicit: bool = False
) -> UsageError:
    """The error for data found nowhere: the places tried, and where to download it."""
    places = ", ".join(str(p) for p in tried)
    what = "the dataset you named is not at" if explicit else "no dataset found at"
    text = f"{what} {places}"
    if dataset is None:
        return UsageError(f"{text}; check the path, or set {ENV} to the folder holding it")
    return UsageError(
        f"{text}. Download {dataset.url} (checksum {dataset.checksum}), {dataset.how}, "
        f"inside a data folder; then set {ENV} to that folder or pass the path with --dataset"
    )
