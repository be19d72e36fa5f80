"""mmr_select: the maximal-marginal-relevance selection shared by stores and retrievers."""

from __future__ import annotations

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.mmr import mmr, mmr_select


def test_lambda_one_is_relevance_order_and_zero_spreads_out() -> None:
    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    cands = np.array(
        [[0.9, 0.1, 0], [0.95, 0.05, 0], [0.5, 0, 0.5], [0.2, 0.9, 0]], dtype=np.float32
    )
    assert mmr_select(query, cands, 3, lambda_mult=1.0) == [1, 0, 2]
    # 0.3 * relevance - 0.7 * similarity to [1]: the orthogonal-ish [3] beats the close [0]
    assert mmr_select(query, cands, 2, lambda_mult=0.3) == [1, 3]
    assert mmr is mmr_select


def test_edge_cases() -> None:
    query = np.ones(4, dtype=np.float32)
    cands = np.eye(4, dtype=np.float32)
    assert sorted(mmr_select(query, cands, 10)) == [0, 1, 2, 3]  # k > candidates
    assert mmr_select(query, np.zeros((0, 4), dtype=np.float32), 3) == []
    assert len(mmr_select(query, np.zeros((2, 4), dtype=np.float32), 2)) == 2  # zero vectors
    with pytest.raises(UsageError, match="lambda_mult"):
        mmr_select(query, cands, 2, lambda_mult=1.5)
    with pytest.raises(UsageError, match="dimension"):
        mmr_select(np.ones(3), cands, 2)
