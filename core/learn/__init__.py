"""Learning a personal B&W style from a portfolio of the photographer's own (colour, B&W) edits.

Modules: `pairing` (find and check pairs), `index` (SQLite portfolio index in the user data
directory), `fit` (per-pair inverse fit of the renderer's sliders), `model` (proxies + decoder ->
style), `metrics` / `baselines` / `report` (held-out evaluation), `watch` (incremental learning).
"""
