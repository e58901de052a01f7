"""Scale: the audit as one per-bucket step plus one combine, in process or on Dask (DESIGN §12)."""
