"""Import-time cost of the report stack: jsonschema without the ``iri`` grammar.

Altair, nbformat and papermill validate with jsonschema.  On import, ``jsonschema._format``
imports the optional ``rfc3987_syntax`` when it is installed (it is, through
``jupyter-events``), which compiles 39 Lark grammars: about 4.5 s of CPU on the 2-core dev
machine, paid once in the CLI process and once in every notebook kernel of an HTML audit
(bench/README.md, "HTML audit").  Those grammars serve only the ``iri`` and ``iri-reference``
formats, which neither the Vega-Lite schema nor nbformat's schemas use, so no validation and
nothing in a report changes.

The audit notebook's private kernel also imports Altair without its ``JupyterChart``
(:func:`import_altair_without_widgets`): Altair imports anywidget, and with it ipywidgets, for
that one widget class, which the report never uses (about 0.3 s of every HTML audit's kernel
start; bench/README.md, "HTML audit, fourth pass").
"""

from __future__ import annotations

import sys

_IRI_GRAMMAR = "rfc3987_syntax"
_WIDGETS = "anywidget"


def skip_iri_grammar() -> None:
    """Import jsonschema with its ``iri`` format checker left out, once per process.

    Does nothing when jsonschema or ``rfc3987_syntax`` is already imported (then the cost is
    paid, or the caller wants the checker).  Afterwards ``rfc3987_syntax`` imports as usual.
    """
    if "jsonschema" in sys.modules or _IRI_GRAMMAR in sys.modules:
        return
    sys.modules[_IRI_GRAMMAR] = None  # type: ignore[assignment]  # makes its import fail
    try:
        import jsonschema  # noqa: F401  # its format checkers are built now, without iri
    finally:
        del sys.modules[_IRI_GRAMMAR]


def import_altair_without_widgets() -> None:
    """Import Altair with ``anywidget`` hidden, so that its ``JupyterChart`` is Altair's
    stand-in (which raises when used) and neither anywidget nor ipywidgets is imported.

    For the audit notebook's kernel only (:func:`driftkit.kernel.import_kernel_modules`):
    its charts are static HTML fragments, never widgets.  Does nothing when Altair or anywidget
    is already imported; afterwards anywidget imports as usual (the explorer's widget).
    """
    skip_iri_grammar()
    if "altair" in sys.modules or _WIDGETS in sys.modules:
        return
    sys.modules[_WIDGETS] = None  # type: ignore[assignment]  # Altair's find_spec sees None
    try:
        import altair  # noqa: F401
    finally:
        del sys.modules[_WIDGETS]


skip_iri_grammar()  # on import: the report modules that use Altair or nbformat import this first
