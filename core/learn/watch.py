"""`silverprint watch`: keep a learned style up to date while the photographer keeps editing.

- Debounced: an export writes several files in a burst; the update starts once the folder has
  been quiet for `DEBOUNCE_SECONDS`.
- Half-written files: an update waits until every image file's size and mtime have stopped
  changing; a file that still cannot be decoded is skipped with its reason and picked up again
  when it changes (the index keys everything on file identity).
- Incremental: unchanged pairs are neither decoded nor analysed nor fitted again (the portfolio
  index holds their pixels and per-pair fits); the style's base is refined from the saved style.
- Contradictions are reported, not silently averaged: after each update, a pair whose edit the
  updated style reproduces far worse than the others is named in the log with how it differs
  (`consistency`).
- Resumes after a restart: the first thing it does is catch up with the folder as it is now.
- The style file is replaced atomically (temp file, fsync, rename): killed at any moment, even
  with SIGKILL mid-update, it leaves the previous or the new style, never a broken file.
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Callable

from ..errors import BadInputError, SilverprintError
from .pairing import IMAGE_SUFFIXES

DEBOUNCE_SECONDS = 2.0
#: How long files must keep their size and mtime before they count as completely written.
STABLE_SECONDS = 0.5


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for path in root.rglob("*"):
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
            try:
                stat = path.stat()
            except OSError:
                continue
            out[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return out


def wait_until_stable(root: Path, stable: float = STABLE_SECONDS, timeout: float = 120.0) -> bool:
    """True once no image file under `root` changed for `stable` seconds (False on timeout)."""
    deadline = time.monotonic() + timeout
    before = _snapshot(root)
    while time.monotonic() < deadline:
        time.sleep(stable)
        now = _snapshot(root)
        if now == before:
            return True
        before = now
    return False


def update(portfolio: Path, name: str, *, log: Callable[[str], None]) -> dict:
    """One incremental update: learn (warm), save atomically, then refresh held-out metrics."""
    from ..paths import styles_dir
    from ..styles import load_style, save_style
    from .learner import evaluate_pairs, gather, global_baseline, learn_portfolio, summarise
    from .index import PortfolioIndex

    start = time.monotonic()
    report = learn_portfolio(portfolio, name, warm=True, evaluate=False)
    seconds = time.monotonic() - start
    entry = report["styles"][0]
    log(f"updated style {name} from {len(entry['train'])} pairs in {seconds:.1f} s "
        f"({report['prepared']} new or changed, {len(report['skipped'])} skipped)")
    for skip in report["skipped"]:
        log(f"  skipped {skip['path']}: {skip['reason']}")
    for c in report["contradicts"]:
        log(f"  contradicts the rest: {c['name']}: {c['why']}")
    report["update_seconds"] = seconds
    if entry["test"]:
        with PortfolioIndex() as index:
            gathered = gather(portfolio, index)
        test = [gathered.items[n] for n in entry["test"] if n in gathered.items]
        train = [gathered.items[n] for n in entry["train"] if n in gathered.items]
        style = load_style(name)
        summary = summarise(evaluate_pairs(style, [i.pair for i in test], global_baseline(train)))
        style.provenance["metrics"] = {k: v for k, v in summary["style"].items() if k != "n"}
        style.provenance["metrics"]["heldout_pairs"] = summary["style"]["n"]
        save_style(style, styles_dir() / f"{name}.json")
        s = summary["style"]
        log(f"  held-out ({s['n']} pairs): PSNR {s['psnr']:.2f} dB, SSIM {s['ssim']:.4f}")
        report["heldout"] = summary
    return report


def watch(portfolio: str | Path, name: str, *, debounce: float | None = None, quiet: bool = False,
          stop: threading.Event | None = None) -> int:
    """Watch until interrupted (or `stop` is set). Returns an exit code."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    from ..styles.style import check_name

    root = Path(portfolio).expanduser()
    if not root.is_dir():
        raise BadInputError(root, "portfolio folder not found")
    check_name(name)
    debounce = DEBOUNCE_SECONDS if debounce is None else debounce
    stop = stop or threading.Event()
    dirty = threading.Event()
    last_change = [time.monotonic()]

    def log(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:  # noqa: ANN001 (watchdog's event type)
            if event.is_directory:
                return
            path = Path(getattr(event, "dest_path", "") or event.src_path)
            if path.name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES | {".part", ".tmp"}:
                return
            last_change[0] = time.monotonic()
            dirty.set()

    observer = Observer()
    observer.schedule(Handler(), str(root), recursive=True)
    observer.start()
    log(f"watching {root} for style {name} (Ctrl-C to stop)")
    try:
        dirty.set()  # catch up first: whatever changed while nobody was watching
        last_change[0] = time.monotonic() - debounce
        while not stop.is_set():
            if not dirty.wait(0.2):
                continue
            if time.monotonic() - last_change[0] < debounce:
                continue
            if not wait_until_stable(root):
                continue
            dirty.clear()
            try:
                update(root, name, log=log)
            except SilverprintError as exc:
                log(f"not updated: {exc}")
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join(timeout=5)
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m silverprint.learn.watch PORTFOLIO NAME`
    sys.exit(watch(sys.argv[1], sys.argv[2]))
