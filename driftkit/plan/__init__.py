"""From diagnosis to the fix (docs/fix_plan.md): which system should own the count
(:mod:`~driftkit.plan.authority`), which write paths to gate (:mod:`~driftkit.plan.fixes`)
and what to check how often (:mod:`~driftkit.plan.schedule`); :mod:`~driftkit.plan.assemble`
builds the audit's part of it."""
