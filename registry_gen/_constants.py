"""Constants shared by the write side, the validator and the warm load path.

Dependency-free on purpose: the warm load path imports this module, and it must
not pull in pydantic or a YAML parser.
"""

from __future__ import annotations

import re

# A DVC md5 as it appears in a pointer: 32 hex digits, ``.dir`` for a folder manifest.
# ``\Z`` rather than ``$``: ``$`` would accept a trailing newline.
MD5_PATTERN = re.compile(r"^[0-9a-f]{32}(\.dir)?\Z")

# The longest description (model.yaml, version.yaml): the schema refuses longer ones,
# and the website's Markdown renderer never sees more.
MAX_DESCRIPTION_CHARS = 100_000

# Formats whose loading runs code stored in the artifact.
UNSAFE_FORMATS = frozenset({"joblib", "pickle"})

# The version of the static JSON API's layout (site/api.py writes it, locate reads it).
API_FORMAT = 1
