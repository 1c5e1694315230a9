"""How large a style file may be, and the bounded reader and JSON parser that enforce it.

A style file is data from anyone (shared, downloaded, dropped into the styles folder), and every
listing reads every file, so reading one must cost little and fail with one line, whatever the
bytes. Each limit is far above what a real style needs (the built-ins, and the largest style the
learner writes: 41 descriptor inputs, 4 embedding dimensions, at most 4 subjects, 3 local
adjustments, a decoder of at most 115 outputs x 41 inputs, and the names of the held-out pairs),
and low enough that reading and validating a file at the limits takes under half a second (an
8 MiB file of 300,000 floats: 0.4 s; 490,000 values: 0.2 s; CPU of the development machine).
Counts past a limit are refused, never truncated: a style either is what its file says or does
not load.
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UnknownStyleError

#: Bytes read from one style file. A learned style's decoder at its largest (115 x 41 weights) is
#: about 0.1 MB of JSON, plus one name per held-out pair; the built-ins are 1-4 KB.
MAX_STYLE_BYTES = 8 * 2**20
#: Nesting of objects and lists. Real files nest 5 deep (style > base > regions > sky > slider;
#: provenance > ablation > loo_mse); free-form ``extra`` and ``provenance`` get room to spare.
#: Deeper input would exhaust Python's recursion limit while parsing or copying.
MAX_DEPTH = 32
#: JSON values (numbers, strings, items of objects and lists) in one file. A learned style holds
#: about 5,000 (115 x 41 weights) plus one per held-out pair; each costs validation and copying.
MAX_VALUES = 500_000
#: Characters of one number literal. Python's repr of a float is at most 24 characters; a
#: 5,000-digit integer otherwise fails deep inside ``int()`` (and costs quadratic time).
MAX_NUMBER_CHARS = 64
#: Local adjustments (graduated, radial, control point) in a style's base. The learner fits a
#: template of 3; each costs a mask per render: 5,000 took 21 s and 960 MB per thumbnail (issue 13), 64 take
#: 0.2 s for a 192 x 128 one (CPU).
MAX_LOCAL_ADJUSTMENTS = 64
#: Subjects (and their proxies). The learner finds at most 4; the built-ins share 5.
MAX_SUBJECTS = 64
#: Dimension of the proxy space. The learner's embedding has 4.
MAX_PROXY_DIM = 256
#: Descriptor names feeding the embedding; there are 41 descriptors, a name may repeat.
MAX_EMBEDDING_INPUTS = 1024
#: Decoder inputs (descriptors, subject weights, embedding coordinates). The learner uses <= 41.
MAX_DECODER_INPUTS = 1024
#: Decoder outputs (slider keys; a key may repeat, deltas add). The learner writes <= 115.
MAX_DECODER_OUTPUTS = 1024
#: Characters of a description: one line for a menu; the built-ins' longest has 104.
MAX_DESCRIPTION_CHARS = 1000


class StyleLimitError(ValueError):
    """A style file past one of the limits above (turned into `InvalidStyleError` by the reader)."""


def read_bounded(path: Path) -> bytes:
    """At most `MAX_STYLE_BYTES` + 1 bytes of a regular file, never blocking on a fifo or device.

    Raises `UnknownStyleError` for a missing file or a directory, `StyleLimitError` for anything
    that is not a regular file or is too large, `OSError` for an unreadable one.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnknownStyleError(f"{path}: no such style file") from None
    except IsADirectoryError:
        raise UnknownStyleError(f"{path}: is a directory, not a style file") from None
    with os.fdopen(fd, "rb", closefd=True) as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if stat.S_ISDIR(mode):
            raise UnknownStyleError(f"{path}: is a directory, not a style file")
        if not stat.S_ISREG(mode):
            raise StyleLimitError("not a regular file (a device, fifo or socket is never a style)")
        if os.fstat(handle.fileno()).st_size > MAX_STYLE_BYTES:
            raise _too_large()
        data = handle.read(MAX_STYLE_BYTES + 1)  # the file may grow while it is read
    if len(data) > MAX_STYLE_BYTES:
        raise _too_large()
    return data


def _too_large() -> StyleLimitError:
    return StyleLimitError(f"larger than {MAX_STYLE_BYTES // 2**20} MiB; no style is that large")


#: A JSON string literal (possessive, so an unterminated one costs linear time).
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
_OPEN, _CLOSE, _COMMA = ord("["), ord("]"), ord(",")
_CHUNK = 1 << 20


def check_structure(text: str) -> None:
    """Refuse text nested deeper than `MAX_DEPTH` or holding more than `MAX_VALUES` values, before
    the recursive parser sees it. Works on the text with string literals removed, in chunks."""
    skeleton = _STRING.sub("", text).translate({ord("{"): "[", ord("}"): "]"})
    data = np.frombuffer(skeleton.encode("utf-8", "replace"), np.uint8)
    depth = 0
    values = 1
    for start in range(0, len(data), _CHUNK):
        chunk = data[start:start + _CHUNK]
        opens = chunk == _OPEN
        steps = opens.astype(np.int32) - (chunk == _CLOSE)
        if steps.size:
            levels = depth + np.cumsum(steps)
            if levels.max() > MAX_DEPTH:
                raise StyleLimitError(f"nested more than {MAX_DEPTH} levels deep")
            depth = int(levels[-1])
        values += int(opens.sum()) + int(np.count_nonzero(chunk == _COMMA))
        if values > MAX_VALUES:
            raise StyleLimitError(f"more than {MAX_VALUES:,} values")


def _number(text: str, convert) -> Any:
    if len(text) > MAX_NUMBER_CHARS:
        raise StyleLimitError(f"a number of {len(text):,} characters (at most {MAX_NUMBER_CHARS})")
    return convert(text)


def parse_json(data: bytes | str) -> Any:
    """Parse a style file's JSON within the limits above.

    Raises `json.JSONDecodeError` for malformed JSON, `UnicodeDecodeError` for bytes that are not
    UTF-8 and `StyleLimitError` for anything past a limit; nothing else.
    """
    if len(data) > MAX_STYLE_BYTES:
        raise _too_large()
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    check_structure(text)
    try:
        return json.loads(text, parse_int=lambda s: _number(s, int),
                          parse_float=lambda s: _number(s, float))
    except RecursionError:  # within MAX_DEPTH this cannot happen; kept as the last guard
        raise StyleLimitError(f"nested more than {MAX_DEPTH} levels deep") from None
