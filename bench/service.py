"""Service overhead and throughput: a real `silverprint serve` against the same work done in-process.

1. Overhead: the same photo rendered N times (a) in this process, the way a request handler does it
   (load the file, `pipeline.render_photo`, encode PNG16) and (b) through `POST /v1/render` on a
   real loopback service with one client. Printed: medians, the difference (ms per request) and the
   ratio HTTP / in-process (target: close to 1; the service adds upload, a temp file and streaming).
2. Throughput with 1, 4 and 8 concurrent clients (renders per second, and relative to 1 client);
   the service runs at most ``max_renders`` renders at once and queues the rest.

Usage: .venv/bin/python bench/service.py [PHOTO] [--repeat 8] [--per-client 4] [--device cpu]
The service is started with a temporary SILVERPRINT_HOME on a random port and stopped at the end.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servicehelp import running_service  # noqa: E402  (the tests' launcher: one way to start it)

DEFAULT_PHOTO = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "kodak" / "kodim23.png"


def in_process(photo: Path, style: str, device: str) -> float:
    from silverprint.imageio import load_image, save_image
    from silverprint.pipeline import render_photo

    start = time.perf_counter()
    loaded = load_image(photo)
    image = render_photo(loaded, style, device=device)
    with tempfile.TemporaryDirectory() as tmp:
        save_image(Path(tmp) / "out.png", image, "png16", exif=loaded.exif)
    return time.perf_counter() - start


def throughput(service, data: bytes, clients: int, per_client: int, style: str) -> float:
    errors: list[BaseException] = []

    def worker() -> None:
        client = service.client(timeout=600)
        for _ in range(per_client):
            try:
                client.render(data, style=style, name="photo.png")
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"{len(errors)} request(s) failed: {errors[0]}")
    return clients * per_client / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--repeat", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--style", default="silver")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--max-renders", type=int, default=None, help="the service's render slots")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sp-bench-service-") as tmp:
        home = Path(tmp)
        os.environ["SILVERPRINT_HOME"] = str(home)
        data = args.photo.read_bytes()
        env = {"SILVERPRINT_DEVICE": args.device}
        if args.max_renders:
            env["SILVERPRINT_MAX_RENDERS"] = str(args.max_renders)
        with running_service(home / "service", env) as service:
            client = service.client(timeout=600)
            device = client.health()["device"]
            from PIL import Image

            size = Image.open(io.BytesIO(data)).size
            print(f"photo {args.photo.name} {size[0]}x{size[1]}, style {args.style}, device {device}, "
                  f"cpus {os.cpu_count()}, render slots {args.max_renders or 'default'}")
            in_process(args.photo, args.style, args.device)  # warm both sides up
            client.render(data, style=args.style)
            local, remote = [], []
            for _ in range(args.repeat):  # interleaved, so that load from other programs hits both
                local.append(in_process(args.photo, args.style, args.device))
                start = time.perf_counter()
                client.render(data, style=args.style, name=args.photo.name)
                remote.append(time.perf_counter() - start)
            lm, rm = statistics.median(local), statistics.median(remote)
            print(f"in-process render (load + render + PNG16): median {lm * 1000:8.1f} ms")
            print(f"HTTP POST /v1/render, 1 client          : median {rm * 1000:8.1f} ms")
            print(f"request overhead: {(rm - lm) * 1000:+.1f} ms per request, ratio HTTP/in-process "
                  f"{rm / lm:.3f}")
            base = None
            for clients in (1, 4, 8):
                rate = throughput(service, data, clients, args.per_client, args.style)
                base = base or rate
                print(f"throughput {clients} client(s): {rate:6.2f} renders/s  ({rate / base:.2f}x of 1 client)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
