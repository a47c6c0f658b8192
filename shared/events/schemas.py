"""JSON Schema files generated from the event models, and the compatibility rules between versions.

The checked-in file of a type is its published contract. `labourx schemas generate` rewrites it
only when the change is compatible, keeping each superseded file under `history/`; a breaking
change needs a new `vN` type instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.events.base import CATALOGUE

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "shared" / "schemas"
HISTORY_DIR = SCHEMA_DIR / "history"


def generate(event_type: str) -> dict[str, Any]:
    """The JSON Schema of an event type's data, as published."""
    model = CATALOGUE[event_type].model
    schema = model.model_json_schema(mode="serialization")
    schema["$id"] = f"/{model.schema_path()}"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_file(event_type: str) -> Path:
    return SCHEMA_DIR / f"{event_type}.json"


def history_files(event_type: str) -> list[Path]:
    folder = HISTORY_DIR / event_type
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {}))
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """The JSON types a property may take (anyOf unions flattened, enums as their values)."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        out: set[str] = set()
        for option in node["anyOf"]:
            out |= _types(schema, option)
        return out
    if "const" in node:
        return {f"const:{node['const']}"}
    if "enum" in node:
        return {f"const:{value}" for value in node["enum"]}
    kind = node.get("type", "any")
    if kind == "string" and "format" in node:
        return {f"string:{node['format']}"}
    return {str(kind)}


@dataclass(frozen=True)
class Incompatibility:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def breaking_changes(
    old: dict[str, Any], new: dict[str, Any], path: str = "data"
) -> list[Incompatibility]:
    """Why data valid under `new` could break a consumer written against `old`.

    Breaking: a property removed, a property's type changed or narrowed, a new required field.
    Compatible: a new optional property, a widened type, a field that became optional.
    """
    problems: list[Incompatibility] = []
    old_props: dict[str, Any] = old.get("properties", {})
    new_props: dict[str, Any] = new.get("properties", {})
    for name, old_node in old_props.items():
        where = f"{path}.{name}"
        if name not in new_props:
            problems.append(Incompatibility(where, "property removed"))
            continue
        old_types = _types(old, old_node)
        new_types = _types(new, new_props[name])
        if not new_types <= old_types and "any" not in old_types:
            problems.append(
                Incompatibility(
                    where, f"type changed from {sorted(old_types)} to {sorted(new_types)}"
                )
            )
        old_obj, new_obj = _resolve(old, old_node), _resolve(new, new_props[name])
        if old_obj.get("type") == "object" and new_obj.get("type") == "object":
            problems.extend(breaking_changes({**old, **old_obj}, {**new, **new_obj}, where))
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        if name not in old_props or name not in old.get("required", []):
            problems.append(Incompatibility(f"{path}.{name}", "new required field"))
    return problems


def stale_types() -> list[str]:
    """Types whose checked-in schema file differs from the model (or is missing)."""
    stale = []
    for event_type in sorted(CATALOGUE):
        path = schema_file(event_type)
        if not path.exists() or path.read_text() != render(generate(event_type)):
            stale.append(event_type)
    return stale


def write_all() -> list[str]:
    """Regenerate every schema file; refuses breaking changes. Returns the types written."""
    SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type in sorted(CATALOGUE):
        path = schema_file(event_type)
        new = generate(event_type)
        text = render(new)
        if path.exists():
            if path.read_text() == text:
                continue
            problems = breaking_changes(json.loads(path.read_text()), new)
            if problems:
                detail = "; ".join(map(str, problems))
                raise ValueError(
                    f"{event_type}: breaking change ({detail}); publish a new version instead"
                )
            archive = HISTORY_DIR / event_type
            archive.mkdir(parents=True, exist_ok=True)
            path.replace(archive / f"{len(history_files(event_type)) + 1:04d}.json")
        path.write_text(text)
        written.append(event_type)
    return written
