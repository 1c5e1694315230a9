"""`silverprint styles list|show|import|export|remove`: browse and manage styles."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("styles", help="list, show, import, export or remove styles",
                                   description="Browse and manage built-in and user styles.")
    sub = parser.add_subparsers(dest="styles_command", metavar="ACTION")
    parser.set_defaults(func=lambda args: (parser.print_help(), 1)[1])

    p = sub.add_parser("list", help="list every style (built-in and your own)")
    p.add_argument("--json", action="store_true", help="print a JSON list of objects")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show one style's description, provenance and sliders")
    p.add_argument("name", metavar="NAME", help="style name or path to a .json style file")
    p.add_argument("--json", action="store_true", help="print the whole style file as JSON")
    p.add_argument("--photo", metavar="FILE",
                   help="also show how the style adapts to this photo (subjects, decoded sliders)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("import", help="copy a style file into your styles")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", help="import under another name")
    p.add_argument("--force", action="store_true", help="replace a user style of the same name")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="write a style to a file (to share or back up)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("dest", metavar="FILE", help="a .json file or an existing folder")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("remove", help="delete one of your styles (built-ins cannot be removed)")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_remove)


def cmd_list(args: argparse.Namespace) -> int:
    from ..styles import DEFAULT_STYLE, list_styles

    errors: list[str] = []
    styles = list_styles(errors)
    for message in errors:
        print(f"silverprint: warning: skipped {message}", file=sys.stderr)
    if args.json:
        items = [dict(s.summary(), default=s.name == DEFAULT_STYLE) for s in styles]
        print(json.dumps(items, indent=2))
        return 0
    width = max((len(s.name) for s in styles), default=4)
    for s in styles:
        kind = "built-in" if s.builtin else s.source
        mark = "*" if s.name == DEFAULT_STYLE else " "
        print(f"{mark} {s.name:<{width}}  {kind:<8}  {s.description}")
    print(f"({len(styles)} styles; * = default)")
    return 0


def _changed(style: Any) -> list[str]:
    """The base sliders that differ from neutral, compactly (`all.` when every region agrees)."""
    from ..params import SEMANTIC_REGIONS, default_global, default_region

    lines = []
    defaults = default_region()
    regions = style.base.regions
    for key, default in defaults.items():
        values = [regions[r][key] for r in SEMANTIC_REGIONS]
        common = max(set(values), key=values.count)
        others = [f"{r} {v:g}" for r, v in zip(SEMANTIC_REGIONS, values) if v != common]
        if common != default or others:
            lines.append(f"all.{key}={common:g}" + (f" ({', '.join(others)})" if others else ""))
    for key, default in default_global().items():
        value = style.base.global_[key]
        if value != default:
            shown = "[" + ", ".join(f"{v:.3g}" for v in value) + "]" if key == "curve" else f"{value:g}"
            lines.append(f"global.{key}={shown}")
    for i, local in enumerate(style.base.local):
        lines.append(f"local{i}: {local['kind']}")
    return lines


def _on_photo(style: Any, photo: str) -> dict[str, Any]:
    """Subject weights, decoder deltas and the decoded sliders of `style` on one photo."""
    from ..imageio import load_image
    from ..pipeline import analyse
    from ..styles import decode, explain
    from ..styles.style import sparse_params

    analysis = analyse(load_image(photo))
    why = explain(style, analysis.descriptors)
    return {"photo": photo, "subjects": {k: round(v, 3) for k, v in why["subjects"].items()},
            "decoder": {k: round(v, 3) for k, v in why["decoder"].items()},
            "params": sparse_params(decode(style, analysis.descriptors))}


def _subjects_line(style: Any) -> str:
    """The subject proxies under the style's own and how many training pairs each was learned
    from (a style file validates that every subject has its proxy)."""
    if not style.subjects:
        return "subjects: none (one recipe for every photo)"
    pairs = style.provenance.get("subjects")
    pairs = pairs if isinstance(pairs, dict) else {}
    parts = [f"{name} ({pairs[name]} training pairs)" if isinstance(pairs.get(name), int) else name
             for name in style.subjects]
    return f"subjects ({len(parts)} proxies under the style's own): " + ", ".join(parts)


def cmd_show(args: argparse.Namespace) -> int:
    from ..styles import load_style

    style = load_style(args.name)
    adapted = _on_photo(style, args.photo) if args.photo else None
    if args.json:
        data = dict(style.to_dict(), builtin=style.builtin)
        if adapted:
            data["on_photo"] = adapted
        print(json.dumps(data, indent=2))
        return 0
    prov = style.provenance
    print(f"{style.name} — {style.description}")
    print(f"  kind: {'built-in' if style.builtin else style.source}"
          f"{'  (toned)' if style.toned else ''}   file: {style.path}")
    if prov.get("pairs"):
        print(f"  learned from {prov['pairs']} pairs, {prov.get('created', '?')}")
    for name, value in (prov.get("metrics") or {}).items():
        print(f"  held-out {name}: {value}")
    print("  sliders: " + (", ".join(_changed(style)) or "neutral"))
    if prov.get("source") == "learned" or style.subjects:
        print("  " + _subjects_line(style))
    for subject, deltas in style.subjects.items():
        text = ", ".join(f"{k}{'+' if not isinstance(v, list) and v >= 0 else ''}"
                         f"{v if isinstance(v, list) else format(v, 'g')}" for k, v in deltas.items())
        print(f"  {subject}: {text}")
    for c in prov.get("contradicts") or []:
        print(f"  contradicts the rest: {c.get('name')}: {c.get('why')}")
    if style.decoder:
        print(f"  adapts to the photo: {', '.join(dict.fromkeys(style.decoder.outputs))} "
              f"(from {', '.join(style.decoder.inputs)})")
    if adapted:
        weights = sorted(adapted["subjects"].items(), key=lambda kv: -kv[1])
        print(f"  on {adapted['photo']}:")
        print("    subjects: " + ", ".join(f"{k} {v:.0%}" for k, v in weights if v >= 0.01))
        if adapted["decoder"]:
            print("    decoder: " + ", ".join(f"{k}{v:+g}" for k, v in adapted["decoder"].items()))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ..styles import import_style

    style = import_style(args.file, args.name, overwrite=args.force)
    print(f"imported {style.name!r} → {style.path}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..styles import export_style

    print(f"exported {args.name!r} → {export_style(args.name, args.dest)}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from ..styles import remove_style

    print(f"removed {args.name!r} ({remove_style(args.name)})")
    return 0
