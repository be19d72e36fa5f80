"""What the front ends share, with no UI in it: the Streamlit app (:mod:`agentkit.app`) and
the commands (:mod:`agentkit.commands`) both import it; it imports neither.

- :mod:`~agentkit.workspace.settings`: what one app process works on (arguments over
  environment), and where the app's script is.
- :mod:`~agentkit.workspace.indexes`: open an index folder, the embedder of a new one.
- :mod:`~agentkit.workspace.models`: the model a spec resolves to, and the one that
  answers over an index.
- :mod:`~agentkit.workspace.chains`: the built-in chains (``rag`` is the index's own
  ``qa_chain``) and their prompt texts.
- :mod:`~agentkit.workspace.turns`: one chat turn run in a worker, its tokens and steps.
- :mod:`~agentkit.workspace.approvals`: agents that pause for approval: answers, resumes.
- :mod:`~agentkit.workspace.sources`: the sources of an answer, as plain dicts.
- :mod:`~agentkit.workspace.sessions`: chat sessions in the SQLite history.
- :mod:`~agentkit.workspace.documents`: uploads, ingestion per file, listing, deletion.
- :mod:`~agentkit.workspace.runs`: eval runs to browse.
- :mod:`~agentkit.workspace.graphs`: a chain's graph and its editable parameters.
- :mod:`~agentkit.workspace.approvals`: approving an agent's tool calls from a front end.
"""
