"""Edits to the config file: set `current-context`, add (or, asked to, replace) one context.

The edits are made on the file's text, line by line, not by re-serialising a parsed document:
everything else in the file (other contexts, `[redis.settings]`, comments, blank lines, the
key order) stays as the operator wrote it, with no TOML-writing dependency. Every edit is
checked by parsing the result: it must mean the old document with only the intended change,
or the edit is refused (a `ConfigError`: edit the file by hand) and nothing is written. The
file is then replaced atomically (a temporary file in the same directory, `os.replace`), so
a crash leaves the old file or the new one, never half of it.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wbctl.errors import ConfigError, UsageError

Value = str | bool | int | float

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_HEADER = re.compile(r"^\s*\[")  # a table header, [x] or [[x]]
_CURRENT = re.compile(r"""^\s*(current-context|"current-context"|'current-context')\s*=""")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_key(name: str) -> str:
    """A key as TOML writes it: bare when it can be, else a basic string."""
    return name if _BARE_KEY.fullmatch(name) else toml_string(name)


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or char in "\x7f\x85\u2028\u2029":  # Python's line ends too: one line stays one
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return toml_string(value)


def context_block(name: str, values: Mapping[str, Value], comments: Mapping[str, str] | None = None) -> str:
    """`[contexts.NAME]` and its keys, in the given order; `comments` adds `# ...` lines after
    the keys (the settings still to fill, said in the file where the operator will look)."""
    lines = [f"[contexts.{toml_key(name)}]"]
    lines += [f"{toml_key(key)} = {toml_value(value)}" for key, value in values.items()]
    lines += [f"# {line}" for text in (comments or {}).values() for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def parse(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: invalid TOML: {exc}") from None


def set_current_context(text: str, name: str, path: Path) -> str:
    """The text with `current-context = NAME`: its line replaced where it is, else a first line."""
    lines = _lines(text)
    new_line = f"current-context = {toml_string(name)}\n"
    for index, line in enumerate(lines):
        if _HEADER.match(line):
            break
        if _CURRENT.match(line):
            lines[index] = new_line
            break
    else:
        index = len(lines)
    if index == len(lines) or not _CURRENT.match(lines[index]):
        lines.insert(0, new_line)
    result = "".join(lines)
    expected = {**parse(text, path), "current-context": name}
    _check(result, expected, path, "current-context")
    return result


def add_context(text: str, name: str, block: str, values: Mapping[str, Value], path: Path, *, replace: bool) -> str:
    """The text with `[contexts.NAME]` = `block` (whose keys are `values`).

    A new context goes at the end. With `replace`, an existing `[contexts.NAME]` table's own
    lines (its header to the next header) become the block, in place; its sub-tables
    (`[contexts.NAME.redis.settings]`) are kept."""
    old = parse(text, path)
    contexts = old.get("contexts", {})
    exists = isinstance(contexts, dict) and name in contexts
    if exists and not replace:
        raise ConfigError(f"config {path}: context {name!r} exists already: pass --force to replace it")
    if not exists:
        result = text + ("\n" if text and not text.endswith("\n") else "") + ("\n" if text.strip() else "") + block
        kept: dict[str, Any] = {}
    else:
        result = _replace_table(text, ("contexts", name), block, path)
        kept = {key: value for key, value in contexts[name].items() if isinstance(value, dict)}
    expected = dict(old)
    expected["contexts"] = {**(contexts if isinstance(contexts, dict) else {}), name: {**values, **kept}}
    _check(result, expected, path, f"[contexts.{name}]")
    return result


def _replace_table(text: str, section: tuple[str, ...], block: str, path: Path) -> str:
    lines = _lines(text)
    start = next((i for i, line in enumerate(lines) if _header_name(line) == section), None)
    if start is None:
        raise ConfigError(
            f"config {path}: [{'.'.join(section)}] is not written as a table of its own: edit the file by hand to replace it"
        )
    end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1  # the comments and blank lines before the next table belong to it
    return "".join(lines[:start]) + block + "".join(lines[end:])


def _header_name(line: str) -> tuple[str, ...] | None:
    match = re.match(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", line.rstrip("\n"))
    if not match:
        return None
    try:
        parsed = tomllib.loads(f"[{match.group(1)}]\n")
    except tomllib.TOMLDecodeError:
        return None
    parts: list[str] = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key = next(iter(parsed))
        parts.append(key)
        parsed = parsed[key]
    return tuple(parts)


def _lines(text: str) -> list[str]:
    """The lines as TOML counts them (ended by LF only; str.splitlines also splits at U+2028)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _check(result: str, expected: Mapping[str, Any], path: Path, what: str) -> None:
    """The edit means exactly the intended change, or nothing is written."""
    try:
        ok = tomllib.loads(result) == expected
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        raise ConfigError(f"config {path}: cannot change {what} in place without changing more: edit it by hand")


def write_atomically(path: Path, text: str, *, new_mode: int = 0o600) -> None:
    """Replace `path` with `text` at once: a temporary file beside it, flushed, then renamed.
    An existing file keeps its permissions; a new one gets `new_mode` (private to its owner
    unless the caller says otherwise: a dashboard is read by a provisioner)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = new_mode
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_target(path: Path, flag: str) -> None:
    """A file wbctl is asked to write (`--out`, `--output`): a printable name, not a directory,
    in an existing directory it may write in. Checked before anything is read or rendered, so
    bad input writes nothing. UsageError names the flag and the path."""
    text = str(path)
    if not text or text == "." or any(not char.isprintable() for char in text):
        raise UsageError(f"{flag} {text!r}: expected a file name (no invisible characters)")
    if path.is_dir():
        raise UsageError(f"{flag} {text}: is a directory (give a file name)")
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"{flag} {text}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {text}: the directory {directory} is not writable")
