"""Where Silverprint keeps its files: one resolver, used by every front end.

Order: an explicit override, then `SILVERPRINT_HOME` (tests point it at a temporary folder), then
the per-OS default (XDG on Linux). Nothing is ever written inside a user's photo folders.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """User data: learned styles, the portfolio index. Created on first use."""
    if override is not None:
        base = Path(override)
    elif os.environ.get("SILVERPRINT_HOME"):
        base = Path(os.environ["SILVERPRINT_HOME"]) / "data"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "silverprint"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA", Path.home())) / "silverprint"
    else:
        base = _xdg("XDG_DATA_HOME", ".local/share") / "silverprint"
    base.mkdir(parents=True, exist_ok=True)
    return base


def config_dir(override: str | os.PathLike | None = None) -> Path:
    """User configuration: the service token. Created on first use with mode 0700."""
    if override is not None:
        base = Path(override)
    elif os.environ.get("SILVERPRINT_HOME"):
        base = Path(os.environ["SILVERPRINT_HOME"]) / "config"
    elif sys.platform == "darwin" or os.name == "nt":
        base = data_dir()
    else:
        base = _xdg("XDG_CONFIG_HOME", ".config") / "silverprint"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return base


def styles_dir() -> Path:
    """User styles (learned or imported); built-in styles live in the package resources."""
    path = data_dir() / "styles"
    path.mkdir(parents=True, exist_ok=True)
    return path


def builtin_styles_dir() -> Path:
    """Built-in style files shipped with the package (works from a checkout and from a wheel)."""
    import silverprint_resources

    return Path(silverprint_resources.__file__).parent / "styles"


def token_file() -> Path:
    """The service's bearer token, mode 0600; the plug-ins read it from here."""
    return config_dir() / "token"
