"""Styles: the versioned style file, the built-in and user style stores, and the decoder.

- `style`: the `Style` model, its JSON schema (documented there), validation, atomic save.
- `limits`: how large, deep and numerous a style file's parts may be, and the bounded reader.
- `store`: list / load / import / export / remove over built-in and user styles; `DEFAULT_STYLE`.
- `decoder`: `decode(style, descriptors) -> Params`, the per-photo sliders.
- `builtins`: the source of the built-in style files in `silverprint_resources/styles/`.

For the learner: build a style with `make_style(name, description, base_params, pairs=...,
metrics=..., proxies=Proxies(Embedding(...), style=[...], subjects={...}), subjects={name: deltas},
decoder=LinearDecoder(...))`, then `save_user_style(style)` (atomic). `decoder_inputs(style, d)` gives
the decoder's input vector for descriptors ``d`` exactly as `decode` builds it, so a fitted weight
matrix means the same thing at render time.
"""
from .decoder import (assign, clamp_params, decode, decoder_deltas, decoder_inputs, embed,
                      explain)
from .store import (DEFAULT_STYLE, builtin_names, export_style, import_style, list_styles,
                    load_style, remove_style, save_user_style, style_names, user_names,
                    user_style_path)
from .style import (SCHEMA_VERSION, Embedding, InvalidStyleError, InvalidStyleNameError, LinearDecoder,
                    Proxies, Style, make_style, parse_key, read_style, save_style, sparse_params,
                    style_from_bytes, style_from_dict, style_to_json)

__all__ = [
    "DEFAULT_STYLE", "SCHEMA_VERSION", "Embedding", "InvalidStyleError", "InvalidStyleNameError",
    "LinearDecoder", "Proxies",
    "Style", "assign", "builtin_names", "clamp_params", "decode", "decoder_deltas", "decoder_inputs",
    "embed", "explain", "export_style", "import_style", "list_styles", "load_style", "make_style",
    "parse_key", "read_style", "remove_style", "save_style",
    "save_user_style", "sparse_params", "style_from_bytes", "style_from_dict", "style_names",
    "style_to_json",
    "user_names", "user_style_path",
]
