"""Opening the explorer in JupyterLab: the client folder lookup and the notebook launcher.

Private: the public surface is :mod:`driftkit.explorer`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from driftkit.errors import InputError, ReportError

log = logging.getLogger("driftkit.explorer")  # the public module's logger, as before

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO_ROOT / "notebooks" / "explore.ipynb"
#: JupyterLab settings the explorer opens with: no news popup over the chart (or in screenshots).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}


def find_client_dir(path: str | Path) -> Path:
    """``path`` as given when it exists, else resolved against the repository root.

    Lets a notebook name ``data/sample/...`` whether its kernel runs in the repository root
    or in ``notebooks/``.
    """
    path = Path(path)
    for candidate in (path, REPO_ROOT / path, Path.cwd().parent / path):
        if (candidate / "client.toml").is_file():
            return candidate.resolve()
    raise InputError(
        f"client folder {str(path)!r} has no client.toml (looked in {Path.cwd()} and {REPO_ROOT}); "
        "pass the folder that holds the client's client.toml"
    )


def open_lab(
    client_dir: str | Path,
    browser: bool = True,
    *,
    out_dir: str | Path = "reports/explore",
    reports_dir: str | Path = "reports",
) -> int:
    """Open JupyterLab on a copy of ``notebooks/explore.ipynb`` parameterised for one client.

    The copy is written to ``out_dir/<client>/explore.ipynb`` (papermill ``prepare_only``)
    with the client folder and ``reports_dir`` (where its last audit is read) as absolute
    paths; returns the exit code of ``jupyter lab``.
    """
    import papermill as pm

    client = find_client_dir(client_dir)
    if not NOTEBOOK.is_file():
        raise ReportError(
            f"explorer notebook {NOTEBOOK} is missing; reinstall driftkit from the repository"
        )
    target = Path(out_dir) / client.name / "explore.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(
        str(NOTEBOOK),
        str(target),
        parameters={"client_dir": str(client), "reports_dir": str(Path(reports_dir).resolve())},
        prepare_only=True,
        kernel_name="python3",
        progress_bar=False,
    )
    command = lab_command(target, browser=browser, settings=lab_settings(target.parent))
    log.info("starting %s", " ".join(command))
    return subprocess.run(command, check=False).returncode


def lab_command(notebook: Path, *, browser: bool = True, settings: Path | None = None) -> list[str]:
    """The ``jupyter lab`` command line that opens ``notebook``.

    ``settings`` (from :func:`lab_settings`) becomes JupyterLab's application settings
    folder.  ``--allow-root`` is added when running as root (containers, CI): JupyterLab
    refuses to start as root without it.
    """
    command = [sys.executable, "-m", "jupyter", "lab", str(notebook)]
    if settings is not None:
        command.append(f"--LabApp.app_settings_dir={settings}")
    if not browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    return command


def lab_settings(folder: Path, extra: dict[str, dict[str, Any]] | None = None) -> Path:
    """A JupyterLab application settings folder in ``folder`` with :data:`LAB_OVERRIDES`.

    Its ``overrides.json`` is the installation's own (``<sys.prefix>/share/jupyter/lab/
    settings/overrides.json``, when there is one) with the explorer's settings on top: the
    "news" notification, which would pop up over the chart, is switched off.  ``extra``
    adds settings (the browser benchmark records the cells' timing).

    Returns
    -------
    Path
        The settings folder (``folder/lab-settings``), for ``--LabApp.app_settings_dir``.
    """
    settings = folder / "lab-settings"
    settings.mkdir(parents=True, exist_ok=True)
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides = json.loads(installed.read_text(encoding="utf-8")) if installed.is_file() else {}
    for plugin, values in {**LAB_OVERRIDES, **(extra or {})}.items():
        overrides[plugin] = {**overrides.get(plugin, {}), **values}
    (settings / "overrides.json").write_text(json.dumps(overrides, indent=1), encoding="utf-8")
    return settings
