"""Scale: the audit itself — every step run per part, three passes, one combine (DESIGN §12).

In: a client's tables in memory (one part: the whole client) or its ingest folder (one part
per SKU bucket).  Out: the combined audit — ``summary.json``'s object and the run's tables
(:class:`~driftkit.scale.combine.PartitionedAudit`, seen in process as an
:class:`~driftkit.scale.combine.Audit`).  ``partition`` runs the passes (``plan``: pass 1,
``part``/``full``: passes 2 and 3 of one part, ``bucket``: a bucket read from Parquet) on
the engine ``cluster`` gives (this process, a process pool or Dask); ``merge`` and
``combine`` merge the parts; ``summary`` writes the run files; ``report`` is the HTML
report's view of a partitioned audit.
"""
