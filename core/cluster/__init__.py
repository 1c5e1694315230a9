"""Silverprint on a Ray cluster: photo batches and films spread over many machines.

The optional extra ``silverprint[cluster]`` adds Ray. ``silverprint render|video --cluster ADDRESS``
(or ``SILVERPRINT_CLUSTER``) sends the same work that the local commands do to a cluster's workers:
the same renderer, the same style file (it travels with the job as JSON), the same output planner
and atomic writes. Nothing here is imported, and Ray is never imported, unless ``--cluster`` is
given: the local CLI starts as fast as before.

- `connect`: joining a cluster, choosing CPU or GPU workers.
- `tasks`: what one worker does for one file (no Ray in it: plain functions Ray ships by reference).
- `manifest`: content keys, so that a rerun skips what is done by content, not by name.
- `jobs`: the file batch (submission window, retries, progress, failures).
- `video`: a film split at shot boundaries, shots rendered on workers, joined without re-encoding.
See docs/cluster.md.
"""
from __future__ import annotations

#: The environment variable that stands for ``--cluster ADDRESS``.
CLUSTER_ENV = "SILVERPRINT_CLUSTER"
