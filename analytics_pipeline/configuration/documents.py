"""Configuration documents (the plans file, the budgets file): JSON or TOML text read into plain
data with every number exact (``Decimal``), refused with one error type per document and the
file's name in the message. Domain-neutral, pure."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

FORMATS = {".json": "json", ".toml": "toml"}


def read_document_file(path: str | Path, *, kind: str, error: type[ValueError]) -> tuple[str, str, str]:
    """The text of a ``.json`` or ``.toml`` document file, its format and its name for messages:
    ``(text, fmt, source)``; ``error`` for another suffix or a file that cannot be read. ``kind``
    names the document in the messages ("plans", "budgets")."""
    file = Path(path).expanduser()
    fmt = FORMATS.get(file.suffix.lower())
    if fmt is None:
        raise error(f"{file}: {kind} files are .json or .toml")
    try:
        return file.read_text(encoding="utf-8"), fmt, str(file)
    except OSError as problem:
        raise error(f"{file}: cannot read the {kind} file: {problem.strerror or problem}") from None


def parse_document(text: str, *, fmt: str, source: str, kind: str, error: type[ValueError]) -> dict[str, Any]:
    """The top-level table of ``text`` in ``fmt`` ("json" or "toml"); ``error`` (naming ``source``)
    for an unknown format, text that does not parse, or a top level that is not an object/table.
    ``kind`` names the document in the messages ("plans", "budgets")."""
    try:
        if fmt == "toml":
            data = tomllib.loads(text, parse_float=Decimal)
        elif fmt == "json":
            data = json.loads(text, parse_float=Decimal)
        else:
            raise error(f"{source}: unknown {kind} format {fmt!r} (use .json or .toml)")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as problem:
        raise error(f"{source}: not valid {fmt.upper()}: {problem}") from None
    if not isinstance(data, dict):
        raise error(f"{source}: the top level must be an object/table")
    return data


def document_amount(value: object, where: str, *, error: type[ValueError]) -> Decimal:
    """An amount written in a document (a string such as ``"1500.00"``, an integer or a decimal
    number) as a ``Decimal``, possibly infinite or NaN: the caller states its own bounds (finite
    included). ``error`` naming ``where`` for anything else (a boolean, a list, text that is not a
    number)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise error(f"{where}: {value!r} is not an amount (use a string such as \"1500.00\")")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise error(f"{where}: {value!r} is not an amount") from None
