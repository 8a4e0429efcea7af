"""The measurements: each times one thing a user waits for, at the registry's size.

Every measurement checks first that the feature it times exists (by import or
``hasattr``) and records a "not available yet" skip otherwise, so the suite runs
while the registry is being built and measures more as parts land.

In-process figures (index, validate, history, Markdown) time the library call
after the untimed warm-up runs, with imports already done and memos cleared
before each run. Fresh-process figures (``registry-gen validate``, ``show``,
``load_model``, the floors, ``mkdocs build``) time the whole process from exec
to exit, which is what a user or CI job waits for, with its peak memory.

Where the measurements live:

* ``_registry_figures``: the libyaml floor, loading the index, validating (the
  full registry, a change, and a one-model pull request), ``show``;
* ``_site_figures``: history, the Markdown of every page, ``mkdocs build`` and
  its size curve, followed by its floors (``_site_floors``);
* ``_rebuild_figures``: the build after a one-line promotion, and the site files
  that promotion changes;
* ``_load_figures``: ``load_model`` against its floor, and MLflow's;
* ``reader``: the reader install's size and a cold load from the published site.

Every change a measurement makes (a promotion commit, a site's configuration) is
made in a clone or a folder of its own: the generated registry is only read.
"""

from __future__ import annotations

from collections.abc import Callable

from ._bench import Bench
from ._load_figures import measure_load, measure_mlflow
from ._rebuild_figures import measure_rebuild
from ._registry_figures import measure_index, measure_show, measure_validate
from ._site_figures import measure_history, measure_markdown, measure_site
from .reader import measure_reader

__all__ = ["MEASURE", "MEASUREMENTS", "Bench"]

MEASURE: dict[str, Callable[[Bench], None]] = {
    "index": measure_index,
    "validate": measure_validate,
    "history": measure_history,
    "markdown": measure_markdown,
    "site": measure_site,
    "rebuild": measure_rebuild,
    "show": measure_show,
    "load": measure_load,
    "reader": measure_reader,
    "mlflow": measure_mlflow,
}

MEASUREMENTS = tuple(MEASURE)
