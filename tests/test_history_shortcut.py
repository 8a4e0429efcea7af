"""History's shortcut (a record whose stage or aliases alone moved is not parsed again)
never reads a record differently from a full parse: odd and hostile YAML included."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from builders import commit, init_repo
from registry_gen.history import read_history
from registry_gen.history._derive import Summary, summary, values_only_change

VERSION = "models/m/1/version.yaml"
MODEL = "models/m/model.yaml"

PLAIN_VERSION = b"version: 1\nstage: None\ndescription: First.\nmetrics:\n  auc: 0.9\n"
PLAIN_MODEL = (
    b"name: m\ndescription: |\n  Scores events.\n\n  - Owner: @team\n"
    b"owners:\n- '@team'\ntags:\n  tier: gold\naliases:\n  challenger: 2\n  champion: 1\n"
)
# Records where a line that looks like a stage or an alias is something else, or where
# the real one is written so that no line-based reading can see it.
HOSTILE = [
    # A double-quoted description running over lines, one of them `stage: None`.
    b'version: 1\ndescription: "x\nstage: None\ny"\n"stage": None\n',
    b"version: 1\ndescription: 'x\nstage: None\ny'\n? stage\n: None\n",
    b'name: m\ndescription: "a\n  champion: 1\n  b"\naliases: {champion: 1}\n',
    b"name: m\ndescription: |\n  champion: 1\naliases:\n  champion: 1\n",
    b"name: m\ndescription: >\n  x\n  champion: 1\naliases:\n  'champion': 1\n",
    # A plain scalar continued on the next line: the word is not the whole value.
    b"version: 1\nstage: None\n  Staging\n",
    b"name: m\naliases:\n  champion: 1\n    2\n",
    # Flow style over several lines, and comments.
    b"{version: 1,\nstage: None\n}\n",
    b"name: m\naliases: {\n  champion: 1\n  }\n",
    b"name: m\naliases:\n  champion: 1 # the best\n  other: 2\n",
    b"version: 1\n# stage: None\nstage: None\n",
    b"version: 1\nstage: None # for now\n",
    # Line breaks libyaml counts that bytes.split(b"\n") does not.
    b"version: 1\r\nstage: None\r\n",
    b"version: 1\rdescription: a\nstage: None\n",
    b"version: 1\ndescription: a\xc2\x85b\nstage: None\n",
    b"version: 1\ndescription: a\xe2\x80\xa8b\nstage: None\n",
    # Not readable at all, or not as a mapping, or with a stage that is not a string.
    b"version: 1\nstage: None\nstage: None\n",
    b"version: 1\nstage: &a None\n",
    b"- stage: None\n",
    b"version: 1\nstage: 7\n",
    b"name: m\naliases:\n  champion: 01\n",
    b"name: m\naliases:\n  champion: true\n",
    b"\xef\xbb\xbfstage: None\nversion: 1\n",
    b"version: 1\nstage:\n  None\n",
    b"name: m\naliases:\n  champion:\n    1\n",
    b"name: m\naliases:\n  - champion: 1\n",
    b"name: m\nx:\n  aliases:\n    champion: 1\naliases:\n  champion: 1\n",
    b"version: 1\nx:\n  stage: None\nstage: None\n",
    b"version: 1\nstage: None\n---\nstage: None\n",
]
# What a moved line becomes: other stages, odd words, other versions, broken YAML.
REPLACEMENTS = [
    b"stage: Staging",
    b"stage: Production",
    b"stage: yes",
    b"stage: null",
    b"stage: None",
    b"stage: 'Staging'",
    b"stage: Staging # c",
    b"stage: [a]",
    b"  champion: 2",
    b"  champion: 3",
    b"  champion: 1",
    b"  challenger: 1",
    b"  champion: 0",
    b"  champion: 012",
    b"  champion: 1.5",
    b"  champion: x",
    b"    champion: 2",
    b"champion: 2",
    b"  champion: 2 # c",
    b"  champion: &a 2",
    b"- 2",
    b"",
    b"  ",
    b'"',
]


def _variants(record: bytes) -> list[bytes]:
    """Every record made by replacing one line, or two lines, with a replacement."""
    lines = record.split(b"\n")
    found = []
    for i, line in enumerate(lines):
        for new in REPLACEMENTS:
            if new != line:
                found.append(b"\n".join([*lines[:i], new, *lines[i + 1 :]]))
    for (i, j), (a, b) in itertools.product(
        itertools.combinations(range(len(lines)), 2), [(b"  champion: 2", b"  challenger: 3")]
    ):
        changed = list(lines)
        changed[i], changed[j] = a, b
        found.append(b"\n".join(changed))
    return found


def _check(known: bytes, path: str) -> int:
    """Compare the shortcut with a full parse for every variant; how many it took."""
    seen = summary(known, path)
    taken = 0
    if seen is None:
        return 0
    for other in _variants(known):
        found = values_only_change(known, seen, other)
        if found is not None:
            taken += 1
            assert found == summary(other, path), (known, other)
    return taken


@pytest.mark.parametrize("known", HOSTILE)
def test_the_shortcut_never_reads_a_hostile_record_differently(known: bytes) -> None:
    for path in (VERSION, MODEL):
        _check(known, path)


def test_the_shortcut_reads_what_a_full_parse_reads_and_is_taken() -> None:
    # The ordinary records: the shortcut is taken (promotion, alias moves) and agrees.
    assert _check(PLAIN_VERSION, VERSION) > 0
    assert _check(PLAIN_MODEL, MODEL) > 0
    moved = PLAIN_MODEL.replace(b"challenger: 2", b"challenger: 1").replace(
        b"champion: 1", b"champion: 3"
    )
    found = values_only_change(PLAIN_MODEL, summary(PLAIN_MODEL, MODEL), moved)  # type: ignore[arg-type]
    assert isinstance(found, Summary)
    assert found.fields["aliases"] == {"challenger": 1, "champion": 3}


@pytest.mark.parametrize(
    ("known", "other"),
    [
        # The line that moved looks like the stage, but it is a line of the description.
        (HOSTILE[0], HOSTILE[0].replace(b"stage: None\ny", b"stage: Staging\ny")),
        (HOSTILE[1], HOSTILE[1].replace(b"stage: None\ny", b"stage: Staging\ny")),
        (HOSTILE[3], HOSTILE[3].replace(b"  champion: 1\naliases", b"  champion: 2\naliases")),
        (HOSTILE[2], HOSTILE[2].replace(b"  champion: 1\n  b", b"  champion: 2\n  b")),
    ],
)
def test_a_line_that_only_looks_like_a_stage_or_alias_is_parsed_in_full(
    known: bytes, other: bytes
) -> None:
    path = MODEL if b"name:" in known else VERSION
    seen = summary(known, path)
    assert seen is not None and other != known
    assert values_only_change(known, seen, other) is None


def test_history_with_the_shortcut_is_history_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_repo(tmp_path / "r")
    records = {
        "models/m/model.yaml": PLAIN_MODEL,
        "models/m/1/version.yaml": PLAIN_VERSION,
        "models/m/2/version.yaml": HOSTILE[0],
        "models/m/3/version.yaml": HOSTILE[1],
        "models/n/model.yaml": HOSTILE[3],
        "models/o/model.yaml": HOSTILE[2],
    }
    for number, (path, text) in enumerate(records.items()):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(text)
        commit(root, f"Add {path} (#{number + 1})", date=f"2026-01-01T10:{number:02}:00Z")
    # Each commit moves one or two lines of one record: a real move or a look-alike.
    moves = [
        ("models/m/1/version.yaml", b"stage: None", b"stage: Staging"),
        ("models/m/2/version.yaml", b"stage: None\ny", b"stage: Staging\ny"),
        ("models/m/3/version.yaml", b"stage: None\ny", b"stage: Staging\ny"),
        ("models/m/model.yaml", b"champion: 1", b"champion: 2"),
        ("models/n/model.yaml", b"  champion: 1\naliases", b"  champion: 2\naliases"),
        ("models/o/model.yaml", b"  champion: 1\n  b", b"  champion: 2\n  b"),
        ("models/m/1/version.yaml", b"stage: Staging", b"stage: Production"),
        ("models/m/model.yaml", b"champion: 2", b"champion: 1"),
        ("models/m/model.yaml", b"challenger: 2\n  champion: 1", b"challenger: 1\n  champion: 3"),
        ("models/m/1/version.yaml", b"stage: Production", b"stage: yes"),
        ("models/m/1/version.yaml", b"stage: yes", b"stage: Archived"),
    ]
    for number, (path, was, now) in enumerate(moves):
        text = (root / path).read_bytes()
        assert was in text, path
        (root / path).write_bytes(text.replace(was, now, 1))
        commit(root, f"Move {path} (#{number + 10})", date=f"2026-01-02T10:{number:02}:00Z")
    quick = read_history(root, parts=1)
    monkeypatch.setattr("registry_gen.history._read.values_only_change", lambda *_: None)
    full = read_history(root, parts=1)
    assert quick.events == full.events
    kinds = [(e.kind, e.model) for e in full.events]
    assert ("description", "m") in kinds  # the look-alike stage lines
    assert ("model_description", "n") in kinds and ("model_description", "o") in kinds
    assert ("alias_moved", "m") in kinds
