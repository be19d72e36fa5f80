"""Every vector store passes the shared conformance suite."""

from __future__ import annotations

from typing import Any

import pytest

from agentkit.retrievers.vectorstores import FaissStore, TorchStore
from agentkit.testing.vectorstore import VectorStoreConformance


class TestFaissFlatIP(VectorStoreConformance):
    def make_store(self, dimension: int) -> Any:
        return FaissStore(dimension, metric="ip", index="flat")


class TestFaissFlatL2(VectorStoreConformance):
    def make_store(self, dimension: int) -> Any:
        return FaissStore(dimension, metric="l2", index="flat")


class TestFaissHNSW(VectorStoreConformance):
    def make_store(self, dimension: int) -> Any:
        return FaissStore(dimension, index="hnsw", hnsw_m=16, ef_search=64)


class TestFaissIVF(VectorStoreConformance):
    """nlist=1 trains after 39 vectors, so the suite runs on a trained IVF index."""

    def make_store(self, dimension: int) -> Any:
        return FaissStore(dimension, index="ivf", nlist=1, nprobe=1)


class TestFaissIVFUntrained(VectorStoreConformance):
    def make_store(self, dimension: int) -> Any:
        return FaissStore(dimension, index="ivf")


class TestTorchCPU(VectorStoreConformance):
    def make_store(self, dimension: int) -> Any:
        return TorchStore(dimension, device="cpu")


class TestTorchCPUL2(VectorStoreConformance):
    def make_store(self, dimension: int) -> Any:
        return TorchStore(dimension, device="cpu", metric="l2")


class _SplitScan:
    """Single queries on flat indexes scanned in 3 slices (normally only from 8,192 vectors
    on a multi-core machine), so the suite covers the split scan on small stores."""

    @pytest.fixture(autouse=True)
    def _three_slices(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(FaissStore, "_scan_slices", lambda self: 3)


class TestFaissFlatIPSplitScan(_SplitScan, TestFaissFlatIP):
    pass


class TestFaissFlatL2SplitScan(_SplitScan, TestFaissFlatL2):
    pass
