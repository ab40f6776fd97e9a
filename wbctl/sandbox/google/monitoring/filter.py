"""Cloud Monitoring's filter language, the subset wbctl needs: `SELECTOR OP VALUE` terms joined
by AND (and `NOT term`, parentheses), where SELECTOR is `project`, `metric.type`,
`resource.type`, `metric.labels.KEY` / `metric.label.KEY`, `resource.labels.KEY` /
`resource.label.KEY`; OP is `=`, `!=` or `:` (has substring); VALUE a quoted string or
`one_of("a", "b")`, `starts_with("a")`, `ends_with("a")`, `has_substring("a")`,
`monitoring.regex.full_match("re")`. OR is refused (INVALID_ARGUMENT), as is a filter that does
not name exactly one metric type with `metric.type = "..."` (the real API needs one). Pure, and
separate from the aggregation: a filter only chooses series, and its parser is a small
language of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from wbctl.sandbox.google.errors import InvalidArgument
from wbctl.sandbox.google.monitoring.series import Series

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>!=|=|:|\(|\)|,)
    | (?P<word>[A-Za-z_][A-Za-z0-9_.\-/]*)
    )""",
    re.VERBOSE,
)

Predicate = Callable[[Series], bool]


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise InvalidArgument(f"Could not parse filter {text!r}: unexpected character at position {pos}.")
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
    return tokens


def _selector_value(selector: str, series: Series) -> str | None:
    if selector == "project":
        return series.project
    if selector == "metric.type":
        return series.metric_type
    if selector == "resource.type":
        return series.resource_type
    for prefix, labels in (
        ("metric.labels.", series.metric_labels),
        ("metric.label.", series.metric_labels),
        ("resource.labels.", series.resource_labels),
        ("resource.label.", series.resource_labels),
    ):
        if selector.startswith(prefix):
            return labels.get(selector[len(prefix) :])
    raise AssertionError(selector)


def _valid_selector(selector: str) -> bool:
    if selector in ("project", "metric.type", "resource.type"):
        return True
    return bool(re.fullmatch(r"(metric|resource)\.labels?\.[A-Za-z_][A-Za-z0-9_]*", selector))


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    text: str
    pos: int = 0
    metric_types: list[str] = field(default_factory=list)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value is not None and token[1] != value):
            want = value or kind or "a token"
            got = "the end" if token is None else repr(token[1])
            raise InvalidArgument(f"Could not parse filter {self.text!r}: expected {want}, found {got}.")
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        terms = [self.term()]
        while (token := self.peek()) is not None and token != ("op", ")"):
            if token == ("word", "OR"):
                raise InvalidArgument(f"Filter {self.text!r}: OR is not supported by this fake.")
            if token == ("word", "AND"):
                self.pos += 1
            terms.append(self.term())  # juxtaposition means AND too
        return lambda series: all(term(series) for term in terms)

    def term(self) -> Predicate:
        token = self.peek()
        if token == ("word", "NOT"):
            self.pos += 1
            inner = self.term()
            return lambda series: not inner(series)
        if token == ("op", "("):
            self.pos += 1
            inner = self.expression()
            self.take("op", ")")
            return inner
        selector = self.take("word")[1]
        if not _valid_selector(selector):
            raise InvalidArgument(f"Could not parse filter {self.text!r}: unknown selector {selector!r}.")
        op = self.take("op")[1]
        if op not in ("=", "!=", ":"):
            raise InvalidArgument(f"Could not parse filter {self.text!r}: unexpected {op!r} after {selector}.")
        match = self.value(op)
        if selector == "metric.type" and op == "=":
            self.metric_types.append(selector)

        def predicate(series: Series) -> bool:
            value = _selector_value(selector, series)
            hit = value is not None and match(value)
            return not hit if op == "!=" else hit

        return predicate

    def value(self, op: str) -> Callable[[str], bool]:
        kind, text = self.take()
        if kind == "string":
            if op == ":":
                return lambda value: text in value
            return lambda value: value == text
        if kind != "word":
            raise InvalidArgument(f"Could not parse filter {self.text!r}: expected a value, found {text!r}.")
        self.take("op", "(")
        args = [self.take("string")[1]]
        while self.peek() == ("op", ","):
            self.pos += 1
            args.append(self.take("string")[1])
        self.take("op", ")")
        functions: dict[str, Callable[[str], bool]] = {
            "one_of": lambda value: value in args,
            "starts_with": lambda value: value.startswith(args[0]),
            "ends_with": lambda value: value.endswith(args[0]),
            "has_substring": lambda value: args[0] in value,
            "monitoring.regex.full_match": lambda value: re.fullmatch(args[0], value) is not None,
        }
        if text not in functions:
            raise InvalidArgument(f"Could not parse filter {self.text!r}: unknown function {text}().")
        if text != "one_of" and len(args) != 1:
            raise InvalidArgument(f"Could not parse filter {self.text!r}: {text}() takes one argument.")
        return functions[text]


def parse_filter(text: str) -> Predicate:
    """The predicate of a ListTimeSeries filter; InvalidArgument when it is not valid."""
    if not text.strip():
        raise InvalidArgument("Field filter had an invalid value: a filter must specify a metric type.")
    parser = _Parser(_tokenize(text), text)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise InvalidArgument(f"Could not parse filter {text!r}: unexpected {parser.peek()[1]!r}.")  # type: ignore[index]
    if len(parser.metric_types) != 1:
        raise InvalidArgument(
            f"Field filter had an invalid value of {text!r}: the filter must specify exactly one metric type "
            '(metric.type = "...").'
        )
    return predicate
