"""Serve chains, agents, models and embedders over the OpenAI HTTP protocol.

``agentkit serve qa=chain.yaml agent=agent.yaml`` runs :func:`create_app` under uvicorn
(extra ``serve``: starlette, uvicorn, imported only when an app is built). Python use::

    from agentkit.serve import create_app, make_target
    app = create_app({"qa": make_target("qa", chain)})
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServeSettings", "create_app", "load_targets", "make_target", "serve"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from agentkit.serve.app import create_app

        return create_app
    if name == "ServeSettings":
        from agentkit.serve.guard import ServeSettings

        return ServeSettings
    if name == "make_target":
        from agentkit.serve.targets import make_target

        return make_target
    if name == "load_targets":
        from agentkit.serve.loading import load_targets

        return load_targets
    if name == "serve":
        from agentkit.serve.server import serve

        return serve
    raise AttributeError(f"module 'agentkit.serve' has no attribute {name!r}")
