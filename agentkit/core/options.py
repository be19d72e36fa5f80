"""Keyword options declared once, as a ``TypedDict``, for a method and its async twin
(``**options: Unpack[BatchOptions]``): type checkers check the names and types, and
:func:`check_options` rejects at run time a name the ``TypedDict`` does not declare, as
Python does for a keyword argument a function does not take."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any


def check_options(options: Mapping[str, Any], allowed: Collection[str], method: str) -> None:
    """Raise ``TypeError`` naming the first option of ``options`` not in ``allowed`` and the
    options ``method`` takes."""
    unknown = [name for name in options if name not in allowed]
    if unknown:
        raise TypeError(
            f"{method}() got an unexpected keyword argument {unknown[0]!r}; it takes "
            f"{', '.join(sorted(allowed))}"
        )
