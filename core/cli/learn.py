"""`silverprint learn`, `evaluate` and `watch`: a personal style from a portfolio of edits.

- ``learn PORTFOLIO --name NAME [--json] [--split]``: pairs the folder, learns, saves the style in
  the user styles folder and prints pairs, skipped files (with reasons) and held-out metrics.
- ``evaluate PORTFOLIO --style NAME [--report DIR] [--json]``: scores a style on a portfolio's
  held-out pairs against the baselines; ``--report`` writes an HTML page: per held-out photo the
  images, scores and what the style decided for it and why, and one plot per learned dependence.
- ``watch PORTFOLIO --name NAME``: keeps the style up to date as edits appear.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

COMPONENTS = ("auto", "global", "subjects", "decoder")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("learn", help="learn a style from a portfolio of your own B&W edits",
                       description="Pair originals with your B&W edits, learn a style, save it, and "
                                   "report how closely it reproduces held-out edits.")
    p.add_argument("portfolio", metavar="PORTFOLIO", help="folder with originals and B&W edits")
    p.add_argument("--name", required=True, help="name of the style to create or update")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--split", action="store_true",
                   help="when the folder holds two distinct looks, make one style per look")
    p.add_argument("--train", type=int, default=None, metavar="N",
                   help="learn from N pairs (default: half, the rest held out for metrics)")
    p.add_argument("--components", choices=COMPONENTS, default="auto",
                   help="model components (default: keep what lowers held-out error)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress")
    p.set_defaults(func=run_learn)

    e = sub.add_parser("evaluate", help="score a style on a portfolio's held-out edits",
                       description="Render a portfolio's held-out originals with a style and compare "
                                   "with your edits (PSNR, SSIM) and with the baselines.")
    e.add_argument("portfolio", metavar="PORTFOLIO")
    e.add_argument("--style", required=True, help="style name or file")
    e.add_argument("--report", metavar="DIR",
                   help="write an HTML report here: images, metrics, what the style decided for each "
                        "photo and why, and plots of what it learned")
    e.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    e.add_argument("--curve", action="store_true",
                   help="also learn from 3, 6 and 12 of the training pairs: the learning curve "
                        "(printed, and plotted in the report)")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress")
    e.set_defaults(func=run_evaluate)

    w = sub.add_parser("watch", help="keep a learned style up to date as new edits appear",
                       description="Watch a portfolio folder and update the style when pairs are "
                                   "added, changed or removed (Ctrl-C to stop).")
    w.add_argument("portfolio", metavar="PORTFOLIO")
    w.add_argument("--name", required=True, help="style to keep up to date")
    w.add_argument("--debounce", type=float, default=None, metavar="SECONDS",
                   help="quiet time after the last change before updating")
    w.add_argument("-q", "--quiet", action="store_true")
    w.set_defaults(func=run_watch)


def progress_printer(quiet: bool):
    """Progress on stderr (stdout stays parseable with --json): one bar per stage."""
    if quiet:
        return None
    from ..progress import Progress

    state: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        bar = state.get(stage)
        if bar is None:
            bar = state[stage] = Progress(total, f"{stage:<10}", unit="steps" if "fit" in stage else "pairs")
        # On a terminal the bar redraws in place; in a log, one line per tenth is enough.
        every = 1 if bar.tty else max(1, total // 10)
        if done > bar.done and (done >= total or done - bar.done >= every):
            bar.step(n=done - bar.done)
        if done >= total and not state.get(stage + ":closed"):
            state[stage + ":closed"] = True
            bar.__exit__(None, None, None)

    return report


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    out = dict(report)
    out["styles"] = [{k: v for k, v in entry.items() if k != "style"} for entry in report.get("styles", [])]
    return out


def run_learn(args: argparse.Namespace) -> int:
    from ..learn.learner import learn_portfolio

    report = learn_portfolio(args.portfolio, args.name, split_looks=args.split, n_train=args.train,
                             components=args.components, progress=progress_printer(args.quiet))
    if args.json:
        json.dump(_jsonable(report), sys.stdout, indent=2, default=float)
        sys.stdout.write("\n")
        return 0
    print(f"{report['pairs']} pairs in {report['portfolio']} "
          f"({report['prepared']} new, {report['reused']} unchanged since last time)")
    for skip in report["skipped"]:
        print(f"  skipped {skip['path']}: {skip['reason']}")
    looks = report["looks"]
    if looks["count"] == 2:
        sizes = " and ".join(str(len(g)) for g in looks["groups"])
        if len(report["styles"]) == 2:
            print(f"two distinct looks ({sizes} training pairs): one style per look")
        else:
            print(f"this folder holds two distinct looks ({sizes} training pairs, separation "
                  f"{looks['separation']:.2f}); run with --split to learn one style per look")
    for entry in report["styles"]:
        print(f"style {entry['name']}: learned from {len(entry['train'])} pairs in "
              f"{entry['learn_seconds']:.1f} s; kept {', '.join(entry['ablation']['kept'])}"
              + (f" (prior: {entry['prior']})" if entry.get("prior") else ""))
        if entry.get("subjects"):
            print("  subjects: " + ", ".join(f"{k} ({n} pairs)" for k, n in entry["subjects"].items()))
        for c in entry.get("contradicts", []):
            print(f"  contradicts the rest: {c['name']}: {c['why']}")
        held = entry.get("heldout")
        if held:
            s = held["style"]
            print(f"  held-out ({s['n']} pairs): PSNR {s['psnr']:.2f} dB, SSIM {s['ssim']:.4f}")
            for name, b in held["baselines"].items():
                print(f"  baseline {name:<10} PSNR {b['psnr']:.2f} dB, SSIM {b['ssim']:.4f}")
        else:
            print("  no held-out pairs (add more edits to see how well it generalises)")
        if entry.get("path"):
            print(f"  saved {entry['path']}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from ..learn.learner import evaluate_portfolio

    result = evaluate_portfolio(args.portfolio, args.style, report_dir=args.report,
                                progress=progress_printer(args.quiet), learning_curve=args.curve)
    if args.json:
        json.dump(result, sys.stdout, indent=2, default=float)
        sys.stdout.write("\n")
        return 0
    s = result["style"]
    print(f"style {result['name']} on {s['n']} held-out pairs of {result['portfolio']}: "
          f"PSNR {s['psnr']:.2f} dB, SSIM {s['ssim']:.4f}, mean |dL*| {s['mae_lstar']:.2f}")
    for name, b in result["baselines"].items():
        print(f"  baseline {name:<10} PSNR {b['psnr']:.2f} dB, SSIM {b['ssim']:.4f}")
    if result.get("learning_curve"):
        print("  learning curve (held-out PSNR): " + ", ".join(
            f"{'all ' if r.get('all') else ''}{r['pairs']} pairs {r['psnr']:.2f} dB" for r in result["learning_curve"]))
    for skip in result["skipped"]:
        print(f"  skipped {skip['path']}: {skip['reason']}")
    if result.get("report"):
        print(f"report: {result['report']}")
    return 0


def run_watch(args: argparse.Namespace) -> int:
    from ..learn.watch import watch

    return watch(args.portfolio, args.name, debounce=args.debounce, quiet=args.quiet)
