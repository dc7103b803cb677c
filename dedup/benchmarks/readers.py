"""Reading native annotation files, with errors that name the file and the shape it should have."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class AnnotationError(ValueError):
    """An annotation file that is not in the format its loader reads."""


@contextmanager
def expecting(path: str, expected: str) -> Iterator[None]:
    """Turn a failed lookup in a wrongly shaped file into an AnnotationError naming the file and the shape."""
    try:
        yield
    except AnnotationError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as error:
        raise AnnotationError(f"{path}: expected {expected} ({type(error).__name__}: {error})") from error


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise AnnotationError(f"{path}: not UTF-8 text ({error})") from error


def read_json(path: str, expected: str) -> Any:
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise AnnotationError(f"{path}: not valid JSON, expected {expected} ({error})") from error


def read_json_lines(path: str, expected: str) -> Iterator[dict[str, Any]]:
    """The objects of a JSON-lines file, one a line; blank lines are skipped."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise AnnotationError(f"{path}:{number}: not valid JSON, expected {expected} ({error})") from error
        if not isinstance(record, dict):
            raise AnnotationError(f"{path}:{number}: expected {expected}, got a JSON {type(record).__name__}")
        yield record


def read_lines(path: str) -> Iterator[str]:
    """The non-blank lines of a text file, stripped."""
    return (line.strip() for line in read_text(path).splitlines() if line.strip())


def read_csv(path: str, column: str) -> Iterator[str]:
    """The values of one column of a CSV file with a header row, delimited by ";", a tab or ","."""
    return (row[column] for row in read_csv_rows(path, (column,)))


def read_csv_rows(path: str, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """The rows of a CSV file with a header row (delimited by ";", a tab or ","), each holding `columns`, non-empty."""
    text = read_text(path)
    header = text.partition("\n")[0]
    rows = csv.DictReader(io.StringIO(text), delimiter=next((d for d in (";", "\t") if d in header), ","))
    for column in columns:
        if column not in (rows.fieldnames or []):
            raise AnnotationError(
                f"{path}: expected a CSV file with a {column!r} column in its header, got {rows.fieldnames}"
            )
    for row in rows:
        for column in columns:
            if not row[column]:
                raise AnnotationError(f"{path}:{rows.line_num}: empty {column!r} value")
        yield row
