"""Command-line overrides in the syntax of SONIC's training guide, applied to pydantic configs.

SONIC's scripts take Hydra arguments; our console scripts accept the same strings unchanged
(FORMATS.md "Seed command lines") without Hydra:

* ``key=value``, ``+key=value`` and ``++key=value`` all set the field at the dotted path ``key``.
  Every field of our configs exists with a default, so Hydra's "add" and "force-add" reduce to "set".
* ``+group/path=choice`` selects a named option for a config group: the field at ``group.path``
  (slashes become dots) is set to the string ``choice``, which the field's type validates
  (e.g. ``+manager_env/terminations=tracking/eval``).
  Setting a field under a group chosen this way keeps the choice: the group becomes
  ``{"name": choice, <field>: value}``, which preset configs accept.
* ``~group/path=choice`` or ``~key`` removes an optional group: the field is set to ``None``; when a
  choice is given it must be the one currently selected.
* Values parse as YAML scalars (``True``, ``1e-4``, ``[1, 2]``, ``null``); anything else is a string.

An unknown key fails with :class:`OverrideError`, which names the key and suggests the closest
valid keys. The whole result is validated by the pydantic schema afterwards, so a bad value fails
there with pydantic's message naming the field.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel

__all__ = ["Override", "OverrideError", "apply_overrides", "field_paths", "parse_override"]

Op = Literal["set", "add", "force", "remove"]


class OverrideError(ValueError):
    """A command-line override that cannot be applied; the message names it and what was expected."""


@dataclass(frozen=True)
class Override:
    """One parsed argument: ``op`` from its prefix, dotted ``path``, parsed ``value`` and the raw text."""

    op: Op
    path: str
    value: Any
    raw: str
    is_group: bool


def _parse_value(text: str) -> Any:
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    # A YAML mapping from a bare "a: b" is not what a user means on a command line.
    if isinstance(value, dict):
        return text
    if isinstance(value, str):
        # YAML 1.1 reads "1e-4" (no dot) as a string; on a command line it is a number.
        try:
            return float(value)
        except ValueError:
            return value
    return value


def parse_override(text: str) -> Override:
    """Parse one argument such as ``++algo.config.num_learning_iterations=100``.

    Raises:
        OverrideError: when the argument has no ``=`` (and is not a ``~`` removal) or an empty key.
    """
    raw = text
    if text.startswith("++"):
        op: Op = "force"
        text = text[2:]
    elif text.startswith("+"):
        op = "add"
        text = text[1:]
    elif text.startswith("~"):
        op = "remove"
        text = text[1:]
    else:
        op = "set"
    key, sep, value_text = text.partition("=")
    key = key.strip()
    if not key or (not sep and op != "remove"):
        raise OverrideError(f"override {raw!r}: expected key=value, +key=value, ++key=value or ~key")
    is_group = "/" in key
    path = key.replace("/", ".")
    if op == "remove":
        value = value_text.strip() or None
    else:
        value = value_text if is_group else _parse_value(value_text)
    return Override(op=op, path=path, value=value, raw=raw, is_group=is_group)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``Foo``, ``Foo | None`` or ``Optional[Foo]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _is_mapping(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (dict, Mapping):
        return True
    return any(_is_mapping(a) for a in get_args(annotation))


def field_paths(schema: type[BaseModel], prefix: str = "") -> list[str]:
    """Every settable dotted path of ``schema``; a mapping field contributes ``path.*``."""
    paths: list[str] = []
    for name, info in schema.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(path)
        sub = _model_of(info.annotation)
        if sub is not None:
            paths.extend(field_paths(sub, prefix=f"{path}."))
        elif _is_mapping(info.annotation):
            paths.append(f"{path}.*")
    return paths


def _check_path(path: str, schema: type[BaseModel], raw: str) -> None:
    model: type[BaseModel] | None = schema
    parts = path.split(".")
    for i, part in enumerate(parts):
        if model is None:
            return  # inside a free-form mapping: any key is allowed
        info = model.model_fields.get(part)
        if info is None:
            valid = field_paths(schema)
            close = difflib.get_close_matches(path, valid, n=3, cutoff=0.6)
            if not close:
                here = ".".join(parts[:i])
                close = [p for p in valid if p.rsplit(".", 1)[0] == here][:8] if here else []
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise OverrideError(f"override {raw!r}: unknown key {path!r}{hint}")
        sub = _model_of(info.annotation)
        if sub is None and i < len(parts) - 1 and not _is_mapping(info.annotation):
            raise OverrideError(
                f"override {raw!r}: {'.'.join(parts[: i + 1])!r} is a value, it has no field {parts[i + 1]!r}"
            )
        model = sub


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    node: dict[str, Any] = data
    parts = path.split(".")
    for part in parts[:-1]:
        child: Any = node.get(part)
        if isinstance(child, str):
            # A group selected by name ("tracking/eval") keeps its choice when a field under it is set:
            # preset configs accept ``{"name": choice, <field>: ...}``.
            child = {"name": child}
            node[part] = child
        elif not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def apply_overrides(
    data: dict[str, Any], overrides: Iterable[str | Override], schema: type[BaseModel]
) -> dict[str, Any]:
    """Apply overrides in order to a ``model_dump()``-style dict checked against ``schema``.

    Returns a new dict; validate it with ``schema.model_validate`` to get the config.
    """
    import copy

    out = copy.deepcopy(data)
    for item in overrides:
        ov = item if isinstance(item, Override) else parse_override(item)
        _check_path(ov.path, schema, ov.raw)
        if ov.op == "remove":
            current = _get(out, ov.path)
            if ov.value is not None and current is not None and current != ov.value:
                raise OverrideError(f"override {ov.raw!r}: {ov.path!r} is {current!r}, not {ov.value!r}")
            _set(out, ov.path, None)
        else:
            _set(out, ov.path, ov.value)
    return out
