"""Real ``mkdocs build --strict`` of registries: the example, a small one and a hostile one."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from site_builders import PAYLOAD, build_hostile_registry, build_site_of, build_small_registry

from registry_gen.cli import main
from registry_gen.site import build_site

PROJECT = Path(__file__).resolve().parent.parent
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


class _Audit(HTMLParser):
    """Collects everything in a page that could run script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=>")
            if (
                name in URL_ATTRIBUTES
                and value
                and value.strip().lower().startswith(("javascript:", "data:", "vbscript:"))
            ):
                self.problems.append(f"<{tag} {name}={value[:40]}>")
        # (The theme's icons are inline <svg>; their attributes are checked above.)
        if tag in {"iframe", "object", "embed", "base", "frame"}:
            self.problems.append(f"<{tag}>")
        if tag == "script":
            src = dict(attrs).get("src")
            if src is None:
                self._in_script = True
                self.scripts.append("")
            elif not src.split("/")[-1].startswith(
                ("bundle.", "mermaid.min.js", "registry.js", "workers/")
            ):
                self.problems.append(f"<script src={src}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _audit(site: Path) -> list[str]:
    problems = []
    for page in site.rglob("*.html"):
        audit = _Audit()
        audit.feed(page.read_text(encoding="utf-8"))
        problems += [f"{page.relative_to(site)}: {p}" for p in audit.problems]
        for script in audit.scripts:
            if "pwned" in script:
                problems.append(f"{page.relative_to(site)}: inline script with the payload")
    return problems


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built through the CLI wrapper, as a user would."""
    root = build_small_registry(tmp_path_factory.mktemp("build") / "registry")
    build_site_of(root)  # copies mkdocs.yml; the CLI build below is the one under test
    site = root / "cli-site"
    result = CliRunner().invoke(
        main, ["-C", str(root), "docs", "build", "--strict", "-d", str(site)]
    )
    assert result.exit_code == 0, result.output
    assert f"Site written to {site}" in result.output
    return site


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site_of(build_hostile_registry(tmp_path_factory.mktemp("hostile") / "registry"))


def test_pages_and_urls(small_site: Path) -> None:
    for path in (
        "index.html",
        "models/index.html",
        "models/churn/index.html",
        "models/churn/3/index.html",
        "models/fraud/1/index.html",
        "models/activity/index.html",
        "models/lineage/index.html",
        "models/feed.xml",
        "assets/registry-gen/registry.css",
        "assets/registry-gen/mermaid.min.js",
    ):
        assert (small_site / path).is_file(), path
    model = (small_site / "models/churn/index.html").read_text()
    assert "href='3/'" in model and "Predicts <strong>churn</strong>" in model
    assert '<pre class="mermaid"><code>flowchart LR' in model
    assert "registry-gen/mermaid.min.js" in model


def test_navigation_stays_small(small_site: Path) -> None:
    """Model and version pages are out of the navigation, so every page stays small."""
    for path in ("index.html", "models/churn/3/index.html"):
        html = (small_site / path).read_text()
        outside = html[: html.index("<article")] + html[html.index("</article>") :]
        assert "activity/" in outside, path  # the top pages are in the navigation
        assert "churn/" not in outside and "fraud/" not in outside, path


def test_search_index_has_models_and_versions(small_site: Path) -> None:
    index = json.loads((small_site / "search/search_index.json").read_text())
    locations = [doc["location"] for doc in index["docs"]]
    assert "models/churn/" in locations and "models/fraud/" in locations
    # A version page is one entry: its title and its words (see test_site_search.py).
    assert [loc for loc in locations if loc.startswith("models/churn/3/")] == ["models/churn/3/"]
    # A model page offers search its head: name, description, owners, tags, aliases...
    churn = " ".join(
        doc["title"] + " " + doc["text"]
        for doc in index["docs"]
        if doc["location"].startswith("models/churn/")
    )
    assert "subscribers" in churn and "growth" in churn and "classification" in churn
    assert "@champion" in churn
    # ...not its tables, which the built page still has in full.
    assert "Stage timeline" not in churn and "Load it" not in churn
    page = (small_site / "models/churn/index.html").read_text()
    assert 'id="stage-timeline"' in page and "rg:search-end" in page


def test_json_api(small_site: Path) -> None:
    index = json.loads((small_site / "api/index.json").read_text())
    assert index["format"] == 1 and len(index["revision"]) == 40
    assert index["stages"] == ["None", "Staging", "Production", "Archived"]
    assert index["models"]["churn"] == {
        "href": "api/models/churn.json",
        "latest": 3,
        "aliases": {"champion": 3},
        "stages": {"Production": [3], "Staging": [2], "Archived": [1]},
    }
    churn = json.loads((small_site / "api/models/churn.json").read_text())
    assert churn["name"] == "churn" and [v["version"] for v in churn["versions"]] == [1, 2, 3]
    v3 = churn["versions"][2]
    assert v3["uri"] == "models:/churn/3" and v3["stage"] == "Production"
    assert v3["artifact"]["path"] == "models/churn/3/model.skops"
    assert v3["artifact"]["format"] == "skops" and len(v3["artifact"]["md5"]) == 32
    assert v3["artifact"]["size"] == len(b"churn-3")


def test_hostile_site_contains_no_script(hostile_site: Path) -> None:
    assert _audit(hostile_site) == []
    page = (hostile_site / "models/evil/1/index.html").read_text()
    assert "&#60;script&#62;" in page  # shown as text, not dropped silently
    assert PAYLOAD not in page
    feed = (hostile_site / "models/feed.xml").read_text()
    assert "<script" not in feed and "<img" not in feed


def test_example_registry_builds_strict(tmp_path: Path) -> None:
    """The project's own mkdocs.yml and example registry (an empty models/ is fine too)."""
    site = build_site(PROJECT, strict=True, site_dir=tmp_path / "site")
    assert (site / "index.html").is_file() and (site / "api/index.json").is_file()


def test_builds_without_models_folder(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    shutil.copy(PROJECT / "mkdocs.yml", root / "mkdocs.yml")
    (root / "docs").mkdir()
    site = build_site(root, strict=True)
    assert json.loads((site / "api/index.json").read_text())["models"] == {}
    assert "No registered models yet" in (site / "index.html").read_text()


def test_missing_mkdocs_yml_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "registry.yaml").write_text("{}\n")  # a registry (issue 11), without mkdocs.yml
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "docs", "build"])
    assert result.exit_code == 2 and "mkdocs.yml does not exist" in result.output


def test_serve_watches_the_records(tmp_path: Path) -> None:
    """`mkdocs serve` rebuilds when a record or the policy changes (live reload)."""
    from mkdocs.config import load_config

    from registry_gen.site.plugin import RegistryPlugin

    root = tmp_path / "r"
    (root / "models").mkdir(parents=True)
    (root / "registry.yaml").write_text("stages: [None, Production]\n")
    shutil.copy(PROJECT / "mkdocs.yml", root / "mkdocs.yml")
    (root / "docs").mkdir()
    config = load_config(str(root / "mkdocs.yml"))
    plugin = config.plugins["registry"]
    assert isinstance(plugin, RegistryPlugin)
    plugin.on_config(config)

    class Server:
        def __init__(self) -> None:
            self.watched: list[str] = []

        def watch(self, path: str) -> None:
            self.watched.append(path)

    server = Server()
    plugin.on_serve(server, config=config, builder=None)
    assert server.watched == [str(root / "models"), str(root / "registry.yaml")]


def test_the_plugin_adds_what_build_files_returns(small_site: Path) -> None:
    """Every file of the pure build_files() is in the built site, and nothing else is generated."""
    from datetime import UTC, datetime

    from registry_gen.history import read_history
    from registry_gen.site.render import SiteInputs, SiteOptions, build_files
    from registry_gen.store import load_index

    root = small_site.parent
    files = build_files(
        SiteInputs(load_index(root), read_history(root), datetime.now(UTC)), SiteOptions()
    )
    for path in files:
        if path.endswith(".md"):
            stem = path[: -len(".md")]
            built = f"{stem}.html" if stem.endswith("index") else f"{stem}/index.html"
        else:
            built = path
        assert (small_site / built).is_file(), built
    pages = {p.relative_to(small_site).as_posix() for p in small_site.rglob("*.html")}
    assert len(pages) == len([p for p in files if p.endswith(".md")]) + 1  # + 404.html


# A merged mkdocs.yml that runs code at publish (issue 10): each leaves a marker file when
# MkDocs (before the check) imports or calls it.
_HOOK = "from pathlib import Path\nPath({marker!r}).write_text('ran')\n"
_HOSTILE_CONFIGS = {
    "hooks": "hooks:\n  - evil_hook.py\n",
    "python tag": "extra:\n  x: !!python/object/apply:evil_hook.run []\n",
    "python module tag": "extra:\n  x: !!python/module:evil_hook\n",
    "python name tag": "extra:\n  x: !!python/name:evil_hook.run\n",
    "extension": "markdown_extensions:\n  - evil_hook\n",
    "snippets": "markdown_extensions:\n  - pymdownx.snippets:\n      base_path: /\n",
    "plugin": "plugins:\n  - search\n  - registry\n  - evil\n",
    "custom_dir": "theme:\n  name: material\n  custom_dir: overrides\n",
    "env": "extra:\n  token: !ENV [ACTIONS_ID_TOKEN_REQUEST_TOKEN, GITHUB_TOKEN]\n",
    "docs_dir": "docs_dir: /etc\n",
}


@pytest.mark.parametrize("extra", _HOSTILE_CONFIGS.values(), ids=_HOSTILE_CONFIGS.keys())
def test_mkdocs_yml_that_runs_code_is_refused(tmp_path: Path, extra: str) -> None:
    from registry_gen.errors import RecordError

    root = build_small_registry(tmp_path / "r")
    marker = tmp_path / "ran"
    (root / "evil_hook.py").write_text(
        _HOOK.format(marker=str(marker)) + "def run(*a):\n    return 1\n"
    )
    # Appended: a repeated key replaces the project's (PyYAML keeps the last).
    (root / "mkdocs.yml").write_text((PROJECT / "mkdocs.yml").read_text() + extra)
    (root / "docs").mkdir()
    with pytest.raises(RecordError, match=r"^mkdocs\.yml:\d+.*refuses it"):
        build_site(root, site_dir=tmp_path / "site")
    result = CliRunner().invoke(main, ["-C", str(root), "docs", "build"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: mkdocs.yml:" in result.output and "refuses it" in result.output
    assert not marker.exists()


def test_mkdocs_yml_checks_follow_inherit(tmp_path: Path) -> None:
    from registry_gen.errors import RecordError

    root = build_small_registry(tmp_path / "r")
    (root / "base.yml").write_text("hooks:\n  - evil_hook.py\n")
    (root / "mkdocs.yml").write_text("INHERIT: base.yml\n" + (PROJECT / "mkdocs.yml").read_text())
    with pytest.raises(RecordError, match=r"base\.yml:1 \(hooks\)"):
        build_site(root)
    (root / "mkdocs.yml").write_text("INHERIT: ../elsewhere.yml\nsite_name: x\n")
    with pytest.raises(RecordError, match="INHERIT points outside the registry"):
        build_site(root)


def test_crafted_descriptions_build_as_plain_text(tmp_path: Path) -> None:
    """A 99 KB description of unclosed brackets did not finish a build in 300 s (issue 10):
    beyond the render limits it is shown as text, and the validator's check says why."""
    from builders import commit, write_version
    from registry_gen.markup import find_unsafe_markup

    root = build_small_registry(tmp_path / "r")
    crafted = "[a](" * 24_000 + "\n: x\n" * 60
    write_version(root, "fraud", 2, stage="None", description=crafted)
    commit(root, "Register fraud v2 (#6)")
    [finding] = find_unsafe_markup(crafted)
    assert finding.startswith("Markdown beyond the site's render limits")
    site = build_site_of(root)
    page = (site / "models/fraud/2/index.html").read_text()
    shown = page.split('<div class="rg-description"')[1].split("</div>")[0]
    assert "[a](" * 100 in shown and "<dl" not in shown and "<a " not in shown
