"""The simulator's faults: injection rates of the handoff failures and their named presets.

:class:`Faults` holds the rates (DESIGN §6 causes, plus physical shrink) and parses them
from a preset name or ``cause=rate`` pairs; :data:`FAULT_PRESETS` names the usual mixes.
Private: the public surface is :mod:`driftkit.simulate.simulation`; see ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from driftkit.errors import ConfigError


@dataclass(frozen=True)
class Faults:
    """Injection rates of the handoff failures (DESIGN §6), plus physical shrink.

    Attributes
    ----------
    duplicate_event
        Probability that a shipped order is applied twice in the WMS/3PL or the ERP.
    missing_event
        Probability that a receipt never reaches one system (mostly the WMS, on POs the
        ERP writes as ``PO#123-A``).
    stale_overwrite
        Probability that the night after a cycle count the storefront sync pushes the
        value read before the count.
    unit_mismatch
        Share of SKUs with a pack size > 1 that the ERP records in packs.
    sync_lag
        Probability that a receipt or shipment is recorded 1–3 days late in one system.
    unrecorded_change
        Probability per system, key and day of a manual change with no event.
    shrink
        Probability per key and day of one unit of physical loss that no system records
        (not a handoff failure: it gives cycle counts something to correct; no
        ground-truth row).
    """

    duplicate_event: float = 0.0
    missing_event: float = 0.0
    stale_overwrite: float = 0.0
    unit_mismatch: float = 0.0
    sync_lag: float = 0.0
    unrecorded_change: float = 0.0
    shrink: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(
                    f"Faults.{f.name} is {value!r}; expected a probability between 0 and 1"
                )
        if self.missing_event + self.sync_lag > 1 or self.duplicate_event + self.sync_lag > 1:
            raise ConfigError(
                "Faults: missing_event + sync_lag and duplicate_event + sync_lag must each be "
                "at most 1 (they are drawn as exclusive outcomes of one event)"
            )

    def scaled(self, factor: float) -> Faults:
        """These rates multiplied by ``factor`` (capped at 0.3 each)."""
        return Faults(**{f.name: min(getattr(self, f.name) * factor, 0.3) for f in fields(self)})

    @classmethod
    def preset(cls, name: str) -> Faults:
        """A named preset: ``none``, ``default``, ``low``, ``high`` or one cause alone."""
        if name not in FAULT_PRESETS:
            raise ConfigError(f"unknown fault preset {name!r}; allowed: {', '.join(FAULT_PRESETS)}")
        return FAULT_PRESETS[name]

    @classmethod
    def parse(cls, text: str) -> Faults:
        """A preset name, or ``cause=rate`` pairs separated by commas (others 0), e.g.
        ``duplicate_event=0.05,sync_lag=0.02``."""
        if "=" not in text:
            return cls.preset(text.strip())
        names = {f.name for f in fields(cls)}
        rates: dict[str, float] = {}
        for item in text.split(","):
            name, _, rate = item.partition("=")
            name = name.strip()
            if name not in names:
                raise ConfigError(
                    f"--faults: unknown cause {name!r}; allowed: {', '.join(sorted(names))}"
                )
            try:
                rates[name] = float(rate)
            except ValueError:
                raise ConfigError(
                    f"--faults: {item!r} needs a number after '=', e.g. {name}=0.05"
                ) from None
        return cls(**rates)


_DEFAULT = Faults(
    duplicate_event=0.01,
    missing_event=0.06,
    stale_overwrite=0.15,
    unit_mismatch=0.05,
    sync_lag=0.01,
    unrecorded_change=0.002,
    shrink=0.003,
)
_CAUSES = tuple(f.name for f in fields(Faults) if f.name != "shrink")
FAULT_PRESETS: dict[str, Faults] = {
    "none": Faults(),
    "default": _DEFAULT,
    "low": _DEFAULT.scaled(0.25),
    "high": _DEFAULT.scaled(4.0),
    **{cause: Faults(**{cause: getattr(_DEFAULT.scaled(4.0), cause)}) for cause in _CAUSES},
}
