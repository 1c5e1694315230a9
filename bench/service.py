"""Service overhead and throughput: a real `silverprint serve` against the same work done in-process.

1. Overhead: the same photo rendered N times (a) in this process, the way a request handler does it
   (load the file, `pipeline.render_photo`, encode PNG16) and (b) through `POST /v1/render` on a
   real loopback service with one client. Printed: medians, the difference (ms per request) and the
   ratio HTTP / in-process (target: close to 1; the service adds upload, a temp file and streaming).
2. Throughput with 1, 4 and 8 concurrent clients (renders per second, and relative to 1 client);
   the service runs at most ``max_renders`` renders at once and queues the rest.
3. Keep-alive request overhead: the median time of a small request on a reused connection
   (``GET /v1/health``, and ``GET /v1/jobs`` with the token). Target: <= 2 ms.
4. Memory under load: the service's peak resident memory while 4 clients each render a flat
   100 MP PNG at once (small on disk, ~1.5 GB each once decoded); the pixel budget runs what fits
   and queues the rest. Target: peak <= 4 GB.
5. Memory before auth: a 1.2 GB chunked body without a token sent to ``/v1/jobs/learn``.
   Target: 401 or 413, resident memory growth <= 50 MB.

Usage: .venv/bin/python bench/service.py [PHOTO] [--repeat 8] [--per-client 4] [--device cpu]
                                         [--only overhead,throughput,keepalive,memory,body]
Each section starts its own service (temporary SILVERPRINT_HOME, random port, default limits) and
stops it at the end; resident memory is read from /proc/PID/status of the service process.
"""
from __future__ import annotations

import argparse
import http.client
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from servicehelp import RssWatch, running_service, stream_chunked  # noqa: E402  (the tests' launcher)

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


def overhead_and_throughput(args: argparse.Namespace, home: Path, sections: set[str]) -> None:
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
        if "overhead" in sections:
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
        if "throughput" in sections:
            base = None
            for clients in (1, 4, 8):
                rate = throughput(service, data, clients, args.per_client, args.style)
                base = base or rate
                print(f"throughput {clients} client(s): {rate:6.2f} renders/s  ({rate / base:.2f}x of 1 client)")


def keep_alive(home: Path, count: int = 200) -> None:
    """Median and 95th percentile of small requests on one reused connection."""
    with running_service(home / "keepalive") as service:
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
        for path, token in (("/v1/health", False), ("/v1/jobs", True)):
            headers = {"Host": f"127.0.0.1:{service.port}"}
            if token:
                headers["Authorization"] = f"Bearer {service.token}"
            times = []
            for i in range(count + 10):
                start = time.perf_counter()
                conn.request("GET", path, headers=headers)
                answer = conn.getresponse()
                answer.read()
                if i >= 10:  # the first ones warm the connection and the route up
                    times.append(time.perf_counter() - start)
                assert answer.status == 200, answer.status
            times.sort()
            print(f"keep-alive GET {path:11s} ({'token' if token else 'open '}): median "
                  f"{statistics.median(times) * 1000:6.2f} ms, p95 {times[int(0.95 * len(times))] * 1000:6.2f} ms "
                  f"over {count} requests on one connection (target <= 2 ms)")
        conn.close()


def flat_png(path: Path, megapixels: float) -> tuple[Path, int, int]:
    """A flat grey PNG of about ``megapixels``: tiny on disk, big once decoded."""
    from PIL import Image

    width = int((megapixels * 1e6 * 1.5) ** 0.5)
    height = int(megapixels * 1e6 / width)
    Image.new("RGB", (width, height), (120, 128, 136)).save(path)
    return path, width, height


def memory_under_load(home: Path, device: str, megapixels: float, clients: int, fmt: str) -> None:
    """Peak RSS of the service while ``clients`` render a flat ``megapixels`` PNG at once."""
    home.mkdir(parents=True, exist_ok=True)
    photo, w, h = flat_png(home / "flat.png", megapixels)
    with running_service(home / "memory", {"SILVERPRINT_DEVICE": device}) as service:
        pid = service.process.pid
        idle = rss_mb(pid)
        statuses: list[int | str] = []
        most_running = most_queued = 0

        def worker() -> None:
            client = service.client(timeout=900)
            try:
                client.render(photo, fmt=fmt, name=photo.name)
                statuses.append(200)
            except Exception as exc:  # noqa: BLE001 - reported below
                statuses.append(getattr(exc, "status", type(exc).__name__))

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        start = time.perf_counter()
        with RssWatch(pid, every_s=0.02) as watch:
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                health = service.client(timeout=30).health()
                most_running = max(most_running, health["renders_in_flight"])
                most_queued = max(most_queued, health["renders_queued"])
                time.sleep(0.2)
            for t in threads:
                t.join()
        elapsed = time.perf_counter() - start
        print(f"{clients} concurrent renders of a flat {w}x{h} PNG ({w * h / 1e6:.0f} MP, "
              f"{photo.stat().st_size / 1024:.0f} KB on disk, output {fmt}): answers {sorted(map(str, statuses))}, "
              f"{elapsed:.1f} s; at most {most_running} rendering and {most_queued} queued at once")
        print(f"  service RSS idle {idle:.0f} MB, peak {watch.peak / 1024:.0f} MB (target <= 4096 MB)")


def rss_mb(pid: int) -> float:
    from servicehelp import rss_kb

    return rss_kb(pid) / 1024


def body_before_auth(home: Path, total: int) -> None:
    """A big chunked body without a token: the answer, when it came, and what it cost in memory."""
    with running_service(home / "body") as service:
        pid = service.process.pid
        start = time.perf_counter()
        with RssWatch(pid) as watch:
            status, sent, _ = stream_chunked(service.port, "/v1/jobs/learn", total, chunk=1024 * 1024)
        elapsed = time.perf_counter() - start
        print(f"unauthenticated chunked body of {total / 1e9:.1f} GB to /v1/jobs/learn: answer {status} after "
              f"{sent / 1024 / 1024:.0f} MiB sent, {elapsed * 1000:.0f} ms; service RSS {watch.base / 1024:.0f} MB, "
              f"growth {watch.growth_kb / 1024:.1f} MB (target: 401 or 413, growth <= 50 MB)")


SECTIONS = ("overhead", "throughput", "keepalive", "memory", "body")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--repeat", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--style", default="silver")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--max-renders", type=int, default=None, help="the service's render slots")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--big-mp", type=float, default=100.0, help="megapixels of the memory section's PNG")
    parser.add_argument("--big-clients", type=int, default=4)
    parser.add_argument("--big-format", default="jpeg", choices=("png16", "tiff16", "jpeg"),
                        help="output format of the memory section (JPEG keeps the encode short)")
    parser.add_argument("--body-gb", type=float, default=1.2)
    args = parser.parse_args()
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")

    with tempfile.TemporaryDirectory(prefix="sp-bench-service-") as tmp:
        home = Path(tmp)
        os.environ["SILVERPRINT_HOME"] = str(home)
        if sections & {"overhead", "throughput"}:
            overhead_and_throughput(args, home, sections)
        if "keepalive" in sections:
            keep_alive(home)
        if "body" in sections:
            body_before_auth(home, int(args.body_gb * 1e9))
        if "memory" in sections:
            memory_under_load(home / "big", args.device, args.big_mp, args.big_clients, args.big_format)
    return 0


if __name__ == "__main__":
    sys.exit(main())
