"""A structure-aware mutator for the style target: JSON in, JSON out.

Byte mutations of a style file are almost always invalid JSON, which the parser refuses in its
first line, so coverage-guided fuzzing alone barely reaches the validation behind it. Half of the
mutations here therefore parse the input and change its tree instead: a value replaced by an
extreme or ill-typed one (huge, negative, NaN, a string, a list of the wrong length, nesting), a
key removed, renamed to one a style uses, or added, a list item duplicated or dropped. The other
half are libFuzzer's own byte mutations, which keep exercising the JSON syntax errors.
"""
from __future__ import annotations

import json
import random
from typing import Any, Callable

from silverprint.params import GLOBAL_SLIDER_SPECS, LOCAL_KINDS, REGION_SLIDER_SPECS, SEMANTIC_REGIONS

KEYS: tuple[str, ...] = tuple(dict.fromkeys(
    ["schema", "name", "description", "provenance", "base", "proxies", "subjects", "decoder", "extra",
     "regions", "global", "local", "curve", "kind", "dim", "embedding", "inputs", "center", "scale",
     "matrix", "temperature", "style", "type", "outputs", "weights", "bias", "clip", "source",
     "pairs", "metrics", "all", *SEMANTIC_REGIONS, *REGION_SLIDER_SPECS, *GLOBAL_SLIDER_SPECS,
     *LOCAL_KINDS, *(k for kind in LOCAL_KINDS.values() for k in kind),
     "sky.exposure", "global.curve", "global.curve.16", "global.curve.40", "local0.exposure",
     "local99.x", "subject:portrait", "subject:nobody", "embed:0", "embed:9", "lum_mean"]))
SCALARS: tuple[Any, ...] = (0, 1, -1, 2, 33, 17, 0.5, -0.0, 1e308, -1e308, 1e-320, 2**31, 2**63,
                            10**60, float("nan"), float("inf"), float("-inf"), "", "x", "linear",
                            "learned", "portrait", "\u0000", "\n", None, True, False)
NODES = 4000  #: nodes visited when picking where to mutate (a style has at most ~10,000)


def _nodes(tree: Any) -> list[tuple[Any, Any]]:
    """(container, key or index) of up to `NODES` values in the tree, breadth first."""
    out: list[tuple[Any, Any]] = []
    todo = [tree]
    while todo and len(out) < NODES:
        node = todo.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            if isinstance(value, (dict, list)):
                todo.append(value)
    return out


def _value(rng: random.Random, old: Any) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(SCALARS)
    if roll < 0.65:
        return [rng.choice((0.0, 0.5, 1.0, -1.0, 2.0)) for _ in range(rng.choice((0, 1, 2, 3, 16, 17, 32, 33, 34, 65)))]
    if roll < 0.75:
        return {rng.choice(KEYS): rng.choice(SCALARS) for _ in range(rng.randint(0, 3))}
    if roll < 0.85:
        return [old] if rng.random() < 0.5 else {rng.choice(KEYS): old}  # one level deeper
    if isinstance(old, (int, float)) and not isinstance(old, bool):
        return old * rng.choice((-1, 10, 1e6, 1e-6, 0))
    return rng.choice(SCALARS)


def _mutate_tree(tree: Any, rng: random.Random) -> Any:
    nodes = _nodes(tree)
    if not nodes:
        return {rng.choice(KEYS): _value(rng, None)}
    for _ in range(rng.randint(1, 3)):
        container, key = rng.choice(nodes)
        if isinstance(container, dict) and key not in container:
            continue  # removed by an earlier step
        if isinstance(container, list) and key >= len(container):
            continue
        roll = rng.random()
        if roll < 0.55:
            container[key] = _value(rng, container[key])
        elif roll < 0.7:
            del container[key]
        elif roll < 0.8 and isinstance(container, dict):
            container[rng.choice(KEYS)] = container.pop(key)
        elif roll < 0.9 and isinstance(container, dict):
            container[rng.choice(KEYS)] = _value(rng, None)
        elif isinstance(container, list):
            container.insert(key, container[key])
    return tree


def mutator(byte_mutate: Callable[[bytes, int], bytes]) -> Callable[[bytes, int, int], bytes]:
    """A libFuzzer custom mutator (data, max_size, seed) -> data over ``byte_mutate``."""
    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        if rng.random() < 0.5:
            try:
                tree = json.loads(data)
            except (ValueError, RecursionError):
                tree = None
            if tree is not None or data.strip() == b"null":
                out = json.dumps(_mutate_tree(tree, rng)).encode()
                if len(out) <= max_size:
                    return out
        return byte_mutate(data, max_size)
    return mutate
