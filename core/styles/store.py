"""Where styles live: built-ins in the package, the user's own in the user data directory.

A name resolves to the user's style first, then the built-in one, so a learned style never hides
behind a built-in of the same name once the user chose that name explicitly; `import_style` refuses
built-in names so that this only happens on purpose. Any argument that looks like a file path
(ends in ``.json`` or contains a path separator) is read as a file instead.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import SilverprintError, UnknownStyleError
from ..paths import builtin_styles_dir, styles_dir
from .style import NAME_RE, InvalidStyleError, Style, check_name, now_iso, read_style, save_style

#: The style `make run`, the plug-ins without the companion and `render` without --style use.
DEFAULT_STYLE = "silver"


def _files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.json")) if not p.name.startswith(".")}


def _read_named(path: Path, *, builtin: bool = False) -> Style:
    """Read a style from a store folder: its file name is its name there (a renamed copy of a
    file is a style of the new name, so listing and loading agree)."""
    style = read_style(path, builtin=builtin)
    if style.name != path.stem and NAME_RE.match(path.stem):
        style.name = path.stem
    return style


def builtin_names() -> list[str]:
    return sorted(_files(builtin_styles_dir()))


def user_names() -> list[str]:
    return sorted(_files(styles_dir()))


def style_names() -> list[str]:
    """Every name `load_style` accepts (built-in and user), sorted, without duplicates."""
    return sorted(set(builtin_names()) | set(user_names()))


def list_styles(errors: list[str] | None = None) -> list[Style]:
    """All usable styles: built-ins (sorted) then user styles (sorted).

    A user style shadowing a built-in replaces it in the list. Broken user files are skipped; their
    one-line reasons are appended to `errors` when given (so a listing never fails on one bad file).
    """
    users: dict[str, Style] = {}
    for name, path in _files(styles_dir()).items():
        try:
            users[name] = _read_named(path)
        except SilverprintError as exc:
            if errors is not None:
                errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - a reader bug must not hide every other style
            if errors is not None:
                errors.append(f"{path}: cannot be read ({type(exc).__name__}; please report this)")
    result = [_read_named(p, builtin=True) for n, p in _files(builtin_styles_dir()).items() if n not in users]
    return result + list(users.values())


def _looks_like_path(text: str) -> bool:
    return text.endswith(".json") or os.sep in text or (os.altsep is not None and os.altsep in text)


def load_style(name_or_path: str | os.PathLike | Style) -> Style:
    """A style by name (user styles first, then built-ins) or from a ``.json`` file path."""
    if isinstance(name_or_path, Style):
        return name_or_path
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(str(name_or_path)):
        path = Path(name_or_path)
        builtin = path.resolve().parent == builtin_styles_dir().resolve()
        return read_style(path, builtin=builtin)
    name = str(name_or_path)
    user = styles_dir() / f"{name}.json"
    if user.is_file():
        return _read_named(user)
    builtin = builtin_styles_dir() / f"{name}.json"
    if builtin.is_file():
        return _read_named(builtin, builtin=True)
    raise UnknownStyleError(f"unknown style {name!r} (known: {', '.join(style_names()) or 'none'})")


def user_style_path(name: str) -> Path:
    return styles_dir() / f"{check_name(name)}.json"


def save_user_style(style: Style, *, overwrite: bool = True) -> Path:
    """Write a style into the user's styles directory under its name (atomic)."""
    path = user_style_path(style.name)
    if not overwrite and path.exists():
        raise SilverprintError(f"a user style named {style.name!r} already exists ({path}); "
                               "choose another name or remove it first")
    saved = save_style(style, path)
    style.path, style.builtin = saved, False
    return saved


def import_style(path: str | os.PathLike, name: str | None = None, *, overwrite: bool = False) -> Style:
    """Copy a style file into the user's styles (validated; optionally renamed)."""
    style = read_style(Path(path))
    if name is not None:
        style.name = check_name(name)
    if style.name in builtin_names():
        raise SilverprintError(f"{style.name!r} is the name of a built-in style; import it under "
                               "another name (--name)")
    if style.provenance.get("source", "imported") == "builtin":
        style.provenance["source"] = "imported"
    style.provenance["imported"] = now_iso()
    save_user_style(style, overwrite=overwrite)
    return style


def export_style(name: str, dest: str | os.PathLike) -> Path:
    """Write a style (built-in or user) to `dest`, a file or an existing folder; returns the file."""
    style = load_style(name)
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"{style.name}.json"
    if style.path is not None and dest.resolve() == style.path.resolve():
        raise SilverprintError(f"{dest}: that is the style's own file; export somewhere else")
    if dest.suffix.lower() != ".json":
        raise SilverprintError(f"{dest}: style files end in .json")
    if not dest.parent.is_dir():
        raise SilverprintError(f"{dest.parent}: no such folder")
    return save_style(style, dest)


def remove_style(name: str) -> Path:
    """Delete a user style; built-ins cannot be removed. Returns the removed file."""
    path = styles_dir() / f"{name}.json"
    if _looks_like_path(name) or not path.is_file():
        if name in builtin_names():
            raise SilverprintError(f"{name!r} is a built-in style and cannot be removed")
        raise UnknownStyleError(f"no user style named {name!r} (user styles: "
                                f"{', '.join(user_names()) or 'none'})")
    path.unlink()
    return path


__all__ = ["DEFAULT_STYLE", "InvalidStyleError", "builtin_names", "export_style", "import_style",
           "list_styles", "load_style", "remove_style", "save_user_style", "style_names",
           "user_names", "user_style_path"]
