"""models:/ URIs and identifiers: parsing, round trips, and errors that list the valid forms."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from registry_gen.errors import InvalidName, InvalidUri
from registry_gen.uri import (
    URI_FORMS,
    ModelUri,
    check_alias,
    check_model_name,
    check_stage_name,
    check_version,
    fold_name,
    is_reserved_name,
)


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("models:/churn/3", {"name": "churn", "version": 3}),
        ("models:/churn/Production", {"name": "churn", "stage": "Production"}),
        ("models:/churn/production", {"name": "churn", "stage": "production"}),
        ("models:/churn@champion", {"name": "churn", "alias": "champion"}),
        ("models:/churn/latest", {"name": "churn", "latest": True}),
        ("models:/churn-classifier.v2_x/10", {"name": "churn-classifier.v2_x", "version": 10}),
    ],
)
def test_parse_and_round_trip(text: str, fields: dict[str, object]) -> None:
    uri = ModelUri.parse(text)
    assert uri == ModelUri(**fields)  # type: ignore[arg-type]
    assert str(uri) == text
    assert ModelUri.parse(str(uri)) == uri


@pytest.mark.parametrize(
    "text",
    [
        "models:/a/../b",
        "models:/a/1?x",
        "models:/a/",
        "models:/A B/1",
        "models:/a",
        "models:/",
        "models:/a/1/2",
        "models:/a@",
        "models:/a@b/c",
        "models:/a@1",
        "models:/a@latest",
        "models:/a/0",
        "models:/a/01",
        "models:/a/-1",
        "models:/Churn/1",
        "model:/a/1",
        "models:/a/1#frag",
        "models:/a/%2e%2e",
        "models:/a\\1",
        "models:/a/Prod uction",
        "models:/index/1",
        "models:/a/" + "9" * 12,
        "models:/a@b@c",
        "runs:/abc/model",
        "models:/a/1.5",
    ],
)
def test_malformed_uris_list_the_valid_forms(text: str) -> None:
    with pytest.raises(InvalidUri) as info:
        ModelUri.parse(text)
    message = str(info.value)
    assert repr(text) in message
    assert URI_FORMS in message
    assert "\n" not in message


def test_non_string_uri() -> None:
    with pytest.raises(InvalidUri, match="must be a string"):
        ModelUri.parse(3)  # type: ignore[arg-type]


def test_exactly_one_reference() -> None:
    with pytest.raises(InvalidUri, match="exactly one of"):
        ModelUri(name="a", version=1, alias="b")
    with pytest.raises(InvalidUri):
        ModelUri(name="a")


def test_for_version_validates() -> None:
    assert str(ModelUri.for_version("churn", 4)) == "models:/churn/4"
    with pytest.raises(InvalidName):
        ModelUri.for_version("../x", 1)
    with pytest.raises(InvalidName):
        ModelUri.for_version("churn", 0)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "A",
        "a b",
        "-a",
        ".a",
        "a..b",
        "a.",
        "a.lock",
        "a/b",
        "a" * 65,
        "index",
        "assets",
        "é",
        "a\n",
        "feed.xml",
        "index.html",
        "activity.html",
        "lineage.html",
        "api.json",
        "search.v2",
    ],
)
def test_bad_model_names(name: str) -> None:
    with pytest.raises(InvalidName):
        check_model_name(name)


def test_good_model_names() -> None:
    for name in ["a", "0", "churn-classifier", "x.y_z-1", "a" * 64]:
        assert check_model_name(name) == name


def test_versions() -> None:
    assert check_version(1) == 1
    assert check_version("42") == 42
    for bad in [0, -1, True, "01", "1.0", "", "١", 10_000_001, 1.0]:
        with pytest.raises(InvalidName):
            check_version(bad)  # type: ignore[arg-type]


def test_aliases() -> None:
    assert check_alias("champion") == "champion"
    assert check_alias("blue_green-2") == "blue_green-2"
    for bad in ["", "Champion", "1st", "latest", "v3", "a b", "a" * 65, "champion\n"]:
        with pytest.raises(InvalidName):
            check_alias(bad)
    with pytest.raises(InvalidName, match="name of a stage"):
        check_alias("production", ("None", "Production"))


def test_stage_names_and_folding() -> None:
    assert check_stage_name("Production") == "Production"
    for bad in ["", "1st", "a b", "x" * 33, "Prod/uction", "Production\n"]:
        with pytest.raises(InvalidName):
            check_stage_name(bad)
    assert fold_name("Churn") == fold_name("churn")
    assert fold_name("ﬁ") == fold_name("fi")


def test_reserved_names_cover_every_name_the_site_writes_next_to_models(tmp_path: Path) -> None:
    """Every file the site generates in models/ that is not a model's is a reserved name.

    A model folder named like one of them (``feed.xml``, ``index.html``) would
    collide with that page and stop the site build (issue 10).
    """
    from builders import small_registry_at
    from registry_gen.history import read_history
    from registry_gen.site.render import SiteInputs, SiteOptions, build_files
    from registry_gen.store import load_index

    root = small_registry_at(tmp_path / "registry")
    index = load_index(root)
    for directory_urls in (True, False):
        inputs = SiteInputs(index, read_history(root), datetime(2026, 1, 1, tzinfo=UTC))
        files = build_files(inputs, SiteOptions(page_size=1, directory_urls=directory_urls))
        beside_models = {
            path.split("/")[1]
            for path in files
            if path.startswith("models/") and path.split("/")[1] not in index.models
        }
        assert {"index.md", "activity.md", "lineage.md", "feed.xml", "activity"} <= beside_models
        for name in beside_models:
            assert is_reserved_name(name), name
            with pytest.raises(InvalidName, match="reserved"):
                check_model_name(name)
