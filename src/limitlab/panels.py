"""The one table of figure panel kinds and their keys (no dependencies: core, builders and the
renderer all read it). A panel is plain data; a key that is not in its kind's table is a misspelling,
and fails where the figure is built (or read back from a results file), not when it is drawn."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COMMON = {"kind", "title", "xlabel", "ylabel"}
# kind -> (required keys, optional keys)
PANELS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "lines": (frozenset({"series"}), frozenset({"xscale", "yscale", "ylim", "hlines", "vspans"})),
    "bars": (frozenset({"categories", "groups"}), frozenset({"ylim"})),
    "hist": (frozenset({"samples"}), frozenset({"bins", "range"})),
    "images": (frozenset({"images"}), frozenset({"captions", "ncols", "cmap", "vmin", "vmax", "overlays",
                                                 "overlay_cmap", "row_labels"})),
    "matrix": (frozenset({"values", "rows", "cols"}), frozenset({"fmt", "cmap", "vmin", "vmax"})),
}
# the items inside a panel's lists
ITEMS: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {
    "lines": ("series", frozenset({"label", "x", "y"}), frozenset({"lo", "hi", "style", "weights"})),
    "bars": ("groups", frozenset({"label", "values"}), frozenset({"err"})),
    "hist": ("samples", frozenset({"label", "values"}), frozenset()),
}


def check_panel(panel: Mapping[str, Any], *, where: str = "panel") -> None:
    """A ValueError naming the first unknown kind, unknown key or missing key of `panel`."""
    kind = panel.get("kind")
    if kind not in PANELS:
        raise ValueError(f"{where}: kind {kind!r}; expected one of {', '.join(PANELS)}")
    required, optional = PANELS[kind]
    _keys(panel, required, optional | COMMON, where=f"{where} ({kind})")
    if kind in ITEMS:
        name, need, may = ITEMS[kind]
        if not isinstance(panel[name], list):
            raise ValueError(f"{where} ({kind}): {name} is a {type(panel[name]).__name__}; expected a list")
        for k, item in enumerate(panel[name]):
            if not isinstance(item, Mapping):
                raise ValueError(f"{where} ({kind}): {name}[{k}] is a {type(item).__name__}; expected a table")
            _keys(item, need, may, where=f"{where} ({kind}) {name}[{k}]")


def _keys(table: Mapping[str, Any], required: frozenset[str], allowed: frozenset[str], *, where: str) -> None:
    unknown = sorted(set(table) - required - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; expected keys: {', '.join(sorted(required | allowed))}")
    missing = sorted(required - set(table))
    if missing:
        raise ValueError(f"{where}: missing key {missing[0]!r}")
