"""Learning a personal B&W style from a portfolio of the photographer's own (colour, B&W) edits.

Modules:
- `pairing`: find (original, edit) pairs in the three portfolio layouts (names, suffixes, EXIF),
  and check each pair's pixels (B&W edit, same framing); every skipped file gets a reason.
- `index`: the SQLite portfolio index in the user data directory (file identity, prepared
  pixels, per-pair fits, status), so that re-learning only processes what changed.
- `fit`: inverse fit of the renderer's sliders by gradient, through `silverprint.render`.
- `model`: style proxy (shared fit), subject proxies (Proxy-Anchor embedding), ridge decoder,
  leave-one-out gating, and the style file they make.
- `learner`: the whole `learn` / `evaluate` path; `watch`: incremental learning on file changes.
- `metrics`, `baselines`, `report`: held-out evaluation and its HTML page.

Entry points for other modules: `learner.learn_portfolio(folder, name)`,
`learner.evaluate_portfolio(folder, style)`, `watch.watch(folder, name)`,
`pairing.find_pairs(folder)`, `metrics.score(rendering, edit)`.
"""
