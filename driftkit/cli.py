"""The ``driftkit`` command line (DESIGN §9).

Exit codes: 0 success; 1 a client failed or a check crossed its threshold (the others still
complete); 2 usage or configuration error.  Errors are one clear line on stderr per problem.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftkit.errors import ConfigError, DriftkitError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from driftkit.load.client import ClientData

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s"
    )
    try:
        code: int = args.run(args)
    except (ConfigError, InputError) as exc:
        _error(exc)
        return EXIT_USAGE
    except DriftkitError as exc:
        _error(exc)
        return EXIT_USAGE if args.run is _check else EXIT_FAILED
    except KeyboardInterrupt:
        _error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # no traceback reaches a user: one line, exit 2
        logging.getLogger("driftkit").info("traceback", exc_info=True)
        _error(f"{type(exc).__name__}: {exc} (unexpected; rerun with --verbose for details)")
        return EXIT_USAGE
    return code


def _error(exc: Exception | str) -> None:
    """One line on stderr per problem (a multi-line message is joined), below any progress bar."""
    say(f"driftkit: error: {' '.join(str(exc).split())}", error=True)


def say(line: str, *, error: bool = False) -> None:
    """Print ``line`` on its own line: open progress bars are closed first (ending their line)."""
    from driftkit.progress import close_bars

    close_bars()
    print(line, file=sys.stderr if error else sys.stdout, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="driftkit", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    sim = commands.add_parser("simulate", help="write a simulated client folder")
    sim.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    sim.add_argument("--skus", type=int, default=200)
    sim.add_argument("--days", type=int, default=30)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--locations", type=int, default=2)
    sim.add_argument("--faults", default="default", help="preset name or cause=rate,...")
    sim.add_argument("--demand", choices=("synthetic", "m5"), default="synthetic")
    sim.add_argument(
        "--walk-away-share", type=float, default=0.40, help="share of blocked buyers lost"
    )
    sim.set_defaults(run=_simulate)

    ing = commands.add_parser("ingest", help="load exports into canonical Parquet")
    ing.add_argument("client_dir", type=Path, metavar="CLIENT_DIR")
    ing.add_argument("--out", type=Path, default=None, help="default data/processed/<client>")
    ing.add_argument("--buckets", type=int, default=8, help="SKU buckets (partitions)")
    ing.set_defaults(run=_ingest)

    aud = commands.add_parser("audit", help="audit one or more clients")
    aud.add_argument("client_dirs", type=Path, nargs="*", metavar="CLIENT_DIR")
    aud.add_argument("--all", type=Path, default=None, metavar="DIR", help="every client in DIR")
    aud.add_argument("--out", type=Path, default=Path("reports"), metavar="REPORTS_DIR")
    aud.add_argument("--start", type=date.fromisoformat, default=None)
    aud.add_argument("--end", type=date.fromisoformat, default=None)
    aud.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="parallel clients (default: cores, one more with HTML)",
    )
    aud.add_argument("--no-html", dest="html", action="store_false", help="skip the notebook")
    aud.add_argument(
        "--engine",
        choices=("pandas", "dask"),
        default=None,
        help="audit bucket by bucket: pandas = local process pool of --jobs, dask = Dask cluster "
        "(default: the whole client in one process)",
    )
    aud.add_argument("--scheduler", default=None, metavar="ADDRESS")
    aud.set_defaults(run=_audit)

    chk = commands.add_parser("check", help="exit 1 when a drift threshold is crossed")
    chk.add_argument("client_dir", type=Path, metavar="CLIENT_DIR")
    chk.add_argument("--start", type=date.fromisoformat, default=None)
    chk.add_argument("--end", type=date.fromisoformat, default=None)
    chk.add_argument("--min-agreement-rate", type=float, default=None)
    chk.add_argument("--max-drift-rate", type=float, default=None, help="1 - agreement rate")
    chk.add_argument("--max-value-at-risk", type=float, default=None)
    chk.add_argument("--max-phantom-stockouts", type=float, default=None)
    chk.add_argument(
        "--max-findings", action="append", default=[], metavar="CAUSE=N", help="per cause"
    )
    chk.add_argument(
        "--tier", choices=("A", "B", "C"), default=None, help="check one schedule tier's keys"
    )
    chk.add_argument(
        "--allow-partial",
        action="store_true",
        help="accept configured systems never compared (exit 1 still when nothing was)",
    )
    chk.set_defaults(run=_check)

    sch = commands.add_parser("schedule", help="tier SKUs for scheduled checks, print cron lines")
    sch.add_argument("client_dir", type=Path, metavar="CLIENT_DIR")
    sch.add_argument("--start", type=date.fromisoformat, default=None)
    sch.add_argument("--end", type=date.fromisoformat, default=None)
    sch.add_argument("--out", type=Path, default=None, help="write the keys' tiers as this CSV")
    sch.set_defaults(run=_schedule)

    exp = commands.add_parser("explore", help="open JupyterLab on the explorer notebook")
    exp.add_argument("client_dir", type=Path, metavar="CLIENT_DIR")
    exp.add_argument("--no-browser", action="store_true")
    exp.add_argument("--reports", type=Path, default=Path("reports"), help="REPORTS_DIR")
    exp.set_defaults(run=_explore)
    return parser


def _simulate(args: argparse.Namespace) -> int:
    from driftkit.simulate.simulation import simulate

    sim = simulate(
        args.out_dir,
        skus=args.skus,
        days=args.days,
        seed=args.seed,
        faults=args.faults,
        locations=args.locations,
        demand=args.demand,
        walk_away_share=args.walk_away_share,
    )
    print(f"simulated client written to {sim.path}")
    print(
        f"ground truth: {len(sim.ground_truth)} injected faults in {sim.path / 'ground_truth.csv'}"
    )
    return EXIT_OK


def _ingest(args: argparse.Namespace) -> int:
    from driftkit.load.ingest import ingest

    result = ingest(args.client_dir, out=args.out, buckets=args.buckets, progress=True)
    print(format_load_summary(result.data))
    print(f"\ncanonical Parquet written to {result.path}")
    return EXIT_OK


def format_load_summary(data: ClientData) -> str:
    """A per-system table: files, rows read/accepted/rejected, distinct SKUs, date span."""
    files = data.files
    if files.empty:
        return "no files loaded"
    table = files.groupby(["system", "table"], sort=False).agg(
        files=("source_file", "size"),
        rows_read=("rows_read", "sum"),
        accepted=("rows_accepted", "sum"),
        rejected=("rows_rejected", "sum"),
        first=("first_as_of", "min"),
        last=("last_as_of", "max"),
    )
    table.insert(4, "skus", _distinct_skus(data).reindex(table.index).fillna(0).astype(int))
    for end in ("first", "last"):  # calendar days in the client's timezone (DESIGN §5)
        local = table[end].dt.tz_convert(data.config.timezone)
        table[end] = local.dt.strftime("%Y-%m-%d").fillna("")
    lines = [table.to_string()]
    lines += [f"note: {note}" for note in data.notes]
    return "\n".join(lines)


def _distinct_skus(data: ClientData) -> pd.Series:
    """Distinct SKUs per (system, table): a SKU seen in 30 daily files counts once."""
    import pandas as pd

    parts = [
        getattr(data, name).groupby("system")["sku"].nunique().rename(name)
        for name in ("snapshots", "events")
    ]
    per_system = pd.concat(parts, axis=1).rename_axis("system").stack()
    per_system.index = per_system.index.set_names(["system", "table"])
    reference = pd.Series(
        [data.catalog["sku"].nunique(), data.counts["sku"].nunique()],
        index=pd.MultiIndex.from_tuples([("catalog", "catalog"), ("counts", "counts")]),
    )
    return pd.concat([per_system, reference])


def _audit(args: argparse.Namespace) -> int:
    from driftkit.batch import AuditOptions, client_dirs, run_batch

    dirs = client_dirs(args.client_dirs, args.all)
    options = AuditOptions(
        out=args.out,
        start=args.start,
        end=args.end,
        html=args.html,
        jobs=args.jobs,
        engine=args.engine,
        scheduler=args.scheduler,
    )
    results = run_batch(dirs, options)
    for result in results:
        say(result.line(), error=not result.ok)
        for warning in _comparison_warnings(result.summary):
            say(f"driftkit: warning: {result.client}: {warning}", error=True)
    index = args.out / "index.html"
    if index.is_file():
        print(f"\nindex of reports: {index.resolve()}")
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def _comparison_warnings(summary: dict[str, Any]) -> list[str]:
    """The audit's never-silent notes (nothing compared, systems never compared)."""
    if not summary or "uncompared_systems" not in summary:
        return []
    compared = int(summary.get("compared_cells") or 0)
    if compared and not summary["uncompared_systems"]:
        return []  # nothing to say: the drift package (and pandas) stays unimported
    from driftkit.drift.uncompared import comparison_notes

    return comparison_notes(summary["uncompared_systems"], compared)


def _check(args: argparse.Namespace) -> int:
    from driftkit.check import Thresholds, check_client, check_tier

    thresholds = Thresholds.from_args(args)
    if args.tier is not None:
        crossed = check_tier(args.client_dir, args.tier, thresholds, start=args.start, end=args.end)
    else:
        crossed = check_client(args.client_dir, thresholds, start=args.start, end=args.end)
    for reason in crossed:
        print(f"driftkit check: {reason}", file=sys.stderr)
    if not crossed:
        print(f"driftkit check: {args.client_dir.name}: all thresholds met")
    return EXIT_FAILED if crossed else EXIT_OK


def _schedule(args: argparse.Namespace) -> int:
    from driftkit.audit import run_audit
    from driftkit.plan.schedule import cron_lines, tier_keys, tier_table

    audit = run_audit(args.client_dir, start=args.start, end=args.end)
    tiers = tier_keys(audit.impact.per_key, audit.data.catalog, audit.config.check)
    table = tier_table(tiers, audit.config.check)
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.2f}"))
    print("\n# crontab lines (`crontab -e`):")
    print("\n".join(cron_lines(args.client_dir, table)))
    if args.out is not None:
        tiers.to_csv(args.out, index=False)
        print(f"\nper-key tiers written to {args.out}")
    return EXIT_OK


def _explore(args: argparse.Namespace) -> int:
    from driftkit.explorer.app import open_lab

    return open_lab(args.client_dir, browser=not args.no_browser, reports_dir=args.reports)


if __name__ == "__main__":
    sys.exit(main())
