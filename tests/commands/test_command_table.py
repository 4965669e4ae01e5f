"""COMMAND INFO / COMMAND DOCS of every command snakedis implements, against real Redis.

This checks every family's declarations (arity, flags, key positions, ACL categories) field
by field, plus the documentation data dumped into docs.json.  Commands Redis 7.0 (the oracle)
lacks are checked against their hand-written entries instead.
"""

from __future__ import annotations

from typing import Any

import pytest

from snakedis.commands.server import EXTRA_DOCS, raw_docs
from snakedis.commands.table import build_table

from respparse import parse

_TABLE = build_table()
_ALL = sorted(c.name for c in _TABLE.all_commands())
_DUMPED = raw_docs()
# Commands newer than the oracle (7.2+) are checked against their hand-written entries only.
_IN_ORACLE = [n for n in _ALL if n in _DUMPED and n not in EXTRA_DOCS]
# Fields Redis 7.2 changed on purpose (snakedis follows 7.2; the oracle is 7.0).
_CHANGED_IN_72 = {("zrank", "arity"), ("zrevrank", "arity")}
_FIELDS = ("name", "arity", "flags", "first_key", "last_key", "step", "acl_categories", "tips", "key_specs")


def _value(raw: bytes) -> Any:
    value, end = parse(raw)
    assert end == len(raw)
    return value


def _strip_subcommands(entry: Any) -> Any:
    kind, items = entry
    return items[:9], items[9]


@pytest.mark.parametrize("name", _IN_ORACLE)
def test_command_info_matches_redis(diff: Any, name: str) -> None:
    real, snake = diff.both("COMMAND", "INFO", name)
    real_v, snake_v = _value(real), _value(snake)
    assert real_v[1][0] != (b"*", None), f"{name} is unknown to the oracle"
    real_fields, real_subs = _strip_subcommands(real_v[1][0])
    snake_fields, snake_subs = _strip_subcommands(snake_v[1][0])
    for field, r, s in zip(_FIELDS, real_fields, snake_fields, strict=True):
        if (name, field) in _CHANGED_IN_72:
            continue
        assert s == r, f"{name}: COMMAND INFO field {field} differs:\n  redis:    {r!r}\n  snakedis: {s!r}"
    # Every subcommand we have exists in Redis (their details are checked by their own case).
    real_names = {sub[1][0][1] for sub in real_subs[1]}
    for sub in snake_subs[1]:
        sub_name = sub[1][0][1]
        assert sub_name in real_names or sub_name.decode() in EXTRA_DOCS, sub_name


@pytest.mark.parametrize("name", _IN_ORACLE)
def test_command_docs_match_redis(diff3: Any, name: str) -> None:
    real, snake = diff3.both("COMMAND", "DOCS", name)
    real_v, snake_v = _value(real), _value(snake)

    def fields(v: Any) -> list[Any]:
        kind, items = v
        assert kind == b"%" and len(items) == 2
        doc = items[1][1]
        pairs = list(zip(doc[0::2], doc[1::2], strict=True))
        return [p for p in pairs if p[0][1] != b"subcommands"]

    assert fields(snake_v) == fields(real_v)


def test_command_info_resp3_types(diff3: Any) -> None:
    diff3("COMMAND", "INFO", "get", "set", "nosuchcommand")
    diff3("COMMAND", "INFO", "config|get")


def test_command_info_unknown_is_null(diff: Any) -> None:
    diff("COMMAND", "INFO", "nosuchcommand", "get")


def test_extra_docs_are_consistent() -> None:
    for name, entry in EXTRA_DOCS.items():
        cmd = _TABLE.find(name)
        assert cmd is not None, name
        assert cmd.arity == entry["arity"]
        assert raw_docs()[name]["docs"]["since"].startswith("7.")


def test_every_redis_command_is_documented() -> None:
    docs = raw_docs()
    assert "get" in docs and "config|get" in docs
    missing = [n for n in _ALL if n not in docs]
    if missing:
        pytest.xfail(f"commands newer than the oracle without hand-written docs entries: {missing}")


def test_newer_commands_have_key_specs(snake: Any) -> None:
    for name in EXTRA_DOCS:
        if _TABLE.find(name) is None or "|" in name:
            continue
        value = _value(snake.cmd("COMMAND", "INFO", name))
        entry = value[1][0][1]
        assert entry[0] == (b"$", name.encode())
        assert len(entry[8][1]) == 1, f"{name} has no key spec"
        keys = _value(snake.cmd("COMMAND", "GETKEYS", name, "k", "1", "FIELDS", "1", "f"))
        assert keys[1] == [(b"$", b"k")] or keys[0] == b"-"


def test_commands_md_renders() -> None:
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
    from gen_commands_md import render

    text = render()
    assert "| `GET` | yes |" in text
    assert "| `CLUSTER ADDSLOTS` | no |" in text
