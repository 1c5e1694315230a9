"""Coverage-guided fuzzing (atheris / libFuzzer) of the image loader and the style parser.

    .venv/bin/python tests/fuzz/run.py                     # each target 60 s (what CI runs)
    .venv/bin/python tests/fuzz/run.py --seconds 600 image # one target, longer
    .venv/bin/python tests/fuzz/run.py --work DIR style    # keep what the campaign found in DIR

Each target runs in its own process, seeded with `tests/data/fuzz/<target>/` (read only: new
inputs go to a scratch folder, or --work). The oracle is `targets.py`'s: any exception other than
`SilverprintError`, an input taking over `--input-timeout` seconds or the process passing
`--rss-mb` of memory is a crash; the run then exits 1 and prints each crashing input (path and
base64) so it can be replayed from a CI log and added to the seed folder as a regression seed.
The style target also gets a dictionary (`style.dict`) and a JSON-aware mutator (`jsonmutate`).
"""
from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent / "data" / "fuzz"
TARGETS = ("image", "style")
#: Longest run of one process. Atheris's instrumentation grows the process by a few MB a second
#: (the style target: ~85 MB to ~1 GB in 90 s; plain Python on the same inputs stays flat), so
#: longer campaigns go on in fresh processes, resuming from the corpus found so far, and the
#: memory limit keeps meaning "one input allocated too much".
ROUND_SECONDS = 120


def _worker(target: str, libfuzzer_args: list[str]) -> None:
    """Instrument the code under test, then hand control to libFuzzer (which never returns)."""
    import atheris

    sys.path.insert(0, str(HERE.parent))
    with atheris.instrument_imports():
        # The parsers the bytes reach: ours, and Pillow's / tifffile's / exifread's Python code.
        import exifread  # noqa: F401
        import tifffile  # noqa: F401
        from PIL import (ImageCms, JpegImagePlugin, PngImagePlugin, TiffImagePlugin,  # noqa: F401
                         WebPImagePlugin)

        # The style parser's modules (targets.check_style imports them late, for the replay).
        import silverprint.descriptors  # noqa: F401
        import silverprint.styles.decoder  # noqa: F401
        import silverprint.styles.limits  # noqa: F401
        import silverprint.styles.style  # noqa: F401
        from fuzz import targets
    check = targets.TARGETS[target]
    modes = targets.IMAGE_MODES
    mutator = None
    if target == "style":  # half the mutations change the JSON tree, not its bytes
        from fuzz.jsonmutate import mutator as json_mutator

        # looked up per call: atheris binds its real Mutate only once Fuzz() has started
        mutator = json_mutator(lambda data, max_size: atheris.Mutate(data, max_size))

    def one_input(data: bytes) -> None:
        if target == "image":  # one way per input (the replay runs all): the length picks it
            targets.check_image(data, (modes[len(data) % len(modes)],))
        else:
            check(data)

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input, custom_mutator=mutator)
    atheris.Fuzz()


def _dictionary(target: str) -> list[str]:
    """libFuzzer's -dict for a target that has one (`style.dict`: the words of a style file, which
    byte mutations alone rarely spell), and room for the structure mutator's larger files."""
    path = HERE / f"{target}.dict"
    return [f"-dict={path}", "-max_len=16384"] if path.is_file() else []


def _report(artifacts: Path) -> None:
    for path in sorted(artifacts.iterdir()):
        data = path.read_bytes()
        print(f"  crashing input {path.name} ({len(data)} bytes)", file=sys.stderr)
        if len(data) <= 16384:
            print("  base64: " + base64.b64encode(data).decode(), file=sys.stderr)


def _summary(log: Path, failed: bool) -> str:
    """libFuzzer's final statistics, or the log's tail (the traceback) when the run failed."""
    lines = log.read_text(errors="replace").splitlines()
    if failed:
        return "\n".join(lines[-80:])
    return "\n".join(line for line in lines if line.startswith(("stat::", "Done ")))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"] and argv[1:2] and argv[1] in TARGETS:
        _worker(argv[1], argv[2:])  # libFuzzer's own arguments follow
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("--input-timeout", type=int, default=5, help="seconds one input may take")
    parser.add_argument("--rss-mb", type=int, default=2048, help="memory limit of the process (MB)")
    parser.add_argument("--work", type=Path, help="keep the inputs and crashes a campaign finds here")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target: {' '.join(unknown)}")
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("fuzz: atheris is not installed (pip install -e '.[dev]' on Linux x86-64)", file=sys.stderr)
        return 2
    failed = []
    with tempfile.TemporaryDirectory(prefix="silverprint-fuzz-") as tmp:
        keep = args.work or Path(tmp)
        for target in args.targets or TARGETS:
            corpus, artifacts = keep / target, keep / f"{target}-crashes"
            corpus.mkdir(parents=True, exist_ok=True)
            artifacts.mkdir(parents=True, exist_ok=True)
            print(f"fuzz {target}: {args.seconds} s", flush=True)
            left, code = args.seconds, 0
            while left > 0 and code == 0:  # fresh processes: see ROUND_SECONDS
                log = keep / f"{target}.log"
                command = [sys.executable, str(Path(__file__).resolve()), "--worker", target,
                           f"-max_total_time={min(left, ROUND_SECONDS)}",
                           f"-timeout={args.input_timeout}", f"-rss_limit_mb={args.rss_mb}",
                           f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
                           *_dictionary(target), str(corpus), str(SEEDS / target)]
                with open(log, "wb") as out:
                    code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT,
                                           env=dict(os.environ, PYTHONWARNINGS="ignore"))
                left -= ROUND_SECONDS
                crashed = code != 0 or any(artifacts.iterdir())
                print(_summary(log, crashed), file=sys.stderr if crashed else sys.stdout, flush=True)
            if crashed:
                failed.append(target)
                print(f"fuzz {target}: FAILED (exit {code})", file=sys.stderr)
                _report(artifacts)
    if failed:
        print(f"fuzz: crashes in {', '.join(failed)}", file=sys.stderr)
        return 1
    print("fuzz: no crashes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
