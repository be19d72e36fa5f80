"""Scale-out on Ray: the loading, splitting and embedding of ingestion and the examples of
an eval run on a Ray cluster (``--executor ray``), with the same results and files as a local run.

Chains, embedders and metrics travel to the workers as specs (``to_dict`` here,
``agentkit.load`` there, under the import policy the driver uses), never as pickles. The
decisions and the writes (which files changed, chunk ids, index commits, the eval journal)
stay in the local code on the driver, so a Ray run and a local run are interchangeable on
the same index or run folder. Needs the ``ray`` extra; nothing here imports Ray until used.
See docs/scale-out.md.
"""

from agentkit.scale.cap import shared_cap
from agentkit.scale.cluster import connected, resolve_address
from agentkit.scale.embed import RayEmbedder
from agentkit.scale.evals import RayEvalExecutor, metrics_spec, ray_run_eval
from agentkit.scale.ingest import ivf_store, ray_ingest
from agentkit.scale.split import RayPreparer

__all__ = [
    "RayEmbedder",
    "RayEvalExecutor",
    "RayPreparer",
    "connected",
    "ivf_store",
    "metrics_spec",
    "ray_ingest",
    "ray_run_eval",
    "resolve_address",
    "shared_cap",
]
