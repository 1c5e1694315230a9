"""`silverprint render|video --cluster` on a real Ray cluster: a head and two worker nodes on loopback.

One cluster serves the whole module (starting one costs about 12 s on two cores). Ray 2.60 listens
on every interface, so the cluster, its drivers and the socket monitor run in a private network
namespace whose only interface is lo (tests/clusterhelp.py); every process is killed by PID at the
end, and the monitor checks, all along, that none of them talked to anything but loopback, listened
anywhere else, or ran outside the namespace. Drivers are the real CLI in a subprocess, so this test
process never imports Ray.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clusterhelp import LocalCluster, cmdline, is_loopback, netns_problem
from shared_data import KODAK

ray_missing = subprocess.run([sys.executable, "-c", "import ray"], capture_output=True).returncode != 0
#: Ray listens on every interface: without a loopback-only namespace the cluster is not started at all
NETNS_PROBLEM = netns_problem()
pytestmark = [
    pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)"),
    pytest.mark.skipif(ray_missing, reason="needs Ray: pip install -e '.[cluster]' (in the dev extra)"),
    pytest.mark.skipif(NETNS_PROBLEM is not None,
                       reason=f"needs root or user namespaces for a loopback-only cluster: {NETNS_PROBLEM}"),
    pytest.mark.slow,
]
PHOTOS = ["kodim01.png", "kodim05.png", "kodim14.png", "kodim23.png"]


@pytest.fixture(scope="module")
def cluster():
    c = LocalCluster(workers=2, head_cpus=1).start()
    try:
        yield c
        links = c.netns.links()
    finally:
        c.stop()
    assert not c.pids(), "a process the cluster started is still alive"
    assert links == ["lo"], f"the cluster's namespace has other interfaces: {links}"
    assert c.monitor.polls > 10 and len(c.monitor.seen) > 10  # it did see the cluster's sockets
    assert {name for name, _ in c.monitor.listening} >= {"gcs_server", "raylet"}
    assert not c.monitor.foreign, "contacted a non-loopback address:\n" + "\n".join(c.monitor.foreign)
    assert not c.monitor.outside, "ran outside the namespace:\n" + "\n".join(c.monitor.outside)
    # '*' and 0.0.0.0 (Ray's gcs_server and raylet) are allowed only because lo is the only interface
    wide = sorted(f"{n} {a}" for n, a in c.monitor.listening if not is_loopback(a))
    assert not wide, f"listened on a non-loopback address: {wide}"


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for name in PHOTOS:
        im = Image.open(KODAK / name).convert("RGB")
        im.thumbnail((200, 200))
        im.save(folder / name.replace(".png", ".jpg"), quality=92)
    return folder


def test_cluster_runs_in_a_namespace_with_only_loopback(cluster):
    """Where Ray's wide listening lands: every cluster process in one namespace that has lo and
    nothing else, so no other host can reach a port and no packet can leave."""
    ns = cluster.netns
    assert ns.links() == ["lo"]
    addrs = subprocess.run(ns.wrap(["ip", "-o", "addr"]), capture_output=True, text=True, timeout=30)
    assert {line.split()[3] for line in addrs.stdout.splitlines()} <= {"127.0.0.1/8", "::1/128"}
    outside = os.readlink("/proc/self/ns/net")
    assert ns.ident != outside
    ray_pids = [p for p in cluster.pids() if cmdline(p).split(" ")[0].endswith(("gcs_server", "raylet"))]
    assert len(ray_pids) >= 3  # a GCS, and a raylet per node
    assert {os.readlink(f"/proc/{p}/ns/net") for p in ray_pids} == {ns.ident}
    # a driver in the namespace can reach the cluster's node address but no other host's
    probe = ("import socket,sys\n"
             "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
             "try: s.connect(('192.0.2.1', 9))\n"
             "except OSError as e: sys.exit(0 if e.errno==101 else 4)\n"
             "sys.exit(5)\n")
    assert cluster.run([sys.executable, "-c", probe], timeout=60).returncode == 0  # ENETUNREACH
    host, port = cluster.address.rsplit(":", 1)
    reach = f"import socket; socket.create_connection(({host!r}, {int(port)}), timeout=5).close()"
    done = cluster.run([sys.executable, "-c", reach], timeout=60)
    assert done.returncode == 0, done.stderr
    listen = subprocess.run(ns.wrap(["ss", "-tlnpH"]), capture_output=True, text=True, timeout=30)
    mine = cluster.pids()
    rows = [line.split() for line in listen.stdout.splitlines()
            if {int(p) for p in re.findall(r"pid=(\d+)", line)} & mine]
    assert rows and all(is_loopback(r[3]) for r in rows), listen.stdout


def _cli(cluster: LocalCluster, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return cluster.run([sys.executable, "-m", "silverprint", *args, "--cluster", cluster.address],
                       timeout=timeout)


def _local(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "silverprint", *args], capture_output=True,
                          text=True, timeout=timeout)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(np.int64)


def _leftovers(folder: Path) -> list[str]:
    """Temporary files (a partial output) left in an output folder."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name
            or ".part" in p.name]


def test_batch_matches_local_render_and_rerun_skips_by_content(cluster, photos, tmp_path):
    out, ref = tmp_path / "cluster", tmp_path / "local"
    done = _cli(cluster, "render", str(photos), "--out-dir", str(out), "--set", "global.grain=0")
    assert done.returncode == 0, done.stderr
    assert "rendered 4 of 4" in done.stdout
    assert done.stderr.count("[done ") == 4 and "running" in done.stderr and "failed 0" in done.stderr
    local = _local("render", str(photos), "--out-dir", str(ref), "--set", "global.grain=0", "-q")
    assert local.returncode == 0, local.stderr
    for name in PHOTOS:
        png = name
        a, b = _pixels(out / png), _pixels(ref / png)
        assert a.shape == b.shape
        assert np.abs(a - b).max() <= 257, f"{png}: more than 1 level (8-bit) from the local render"
        assert Image.open(out / png).mode == "I;16"
    before = {p: (_sha(out / p), (out / p).stat().st_mtime_ns) for p in os.listdir(out) if p.endswith(".png")}

    again = _cli(cluster, "render", str(photos), "--out-dir", str(out), "--set", "global.grain=0")
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("unchanged since the last run, skipped") == 4
    assert {p: (_sha(out / p), (out / p).stat().st_mtime_ns) for p in before} == before

    # checked by content, not by name: a changed input, a damaged output and another override redo
    # exactly what they touch
    Image.open(KODAK / "kodim02.png").convert("RGB").resize((200, 133)).save(photos / "kodim01.jpg")
    (out / "kodim05.png").write_bytes((out / "kodim05.png").read_bytes()[:-10] + b"0123456789")
    third = _cli(cluster, "render", str(photos), "--out-dir", str(out), "--set", "global.grain=0")
    assert third.returncode == 0, third.stderr
    assert third.stderr.count("skipped") == 2
    assert "kodim01.jpg -> " in third.stderr and "kodim05.jpg -> " in third.stderr
    assert Image.open(out / "kodim01.png").size == (200, 133)
    manifest = json.loads((out / ".silverprint-cluster.json").read_text())
    assert set(manifest["outputs"]) == {n for n in PHOTOS}
    assert _leftovers(out) == []


def test_corrupt_file_fails_alone_with_exit_2(cluster, photos, tmp_path):
    batch = tmp_path / "in"
    batch.mkdir()
    for p in sorted(photos.iterdir())[:2]:
        (batch / p.name).write_bytes(p.read_bytes())
    (batch / "broken.jpg").write_bytes((photos / "kodim23.jpg").read_bytes()[:2000])
    (batch / "empty.png").write_bytes(b"")
    out = tmp_path / "out"
    result = _cli(cluster, "render", str(batch), "--out-dir", str(out))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("silverprint: error:")]
    assert len(errors) == 2
    assert any("broken.jpg" in e and "truncated" in e for e in errors)
    assert any("empty.png" in e and "empty" in e for e in errors)
    assert "rendered 2 of 4" in result.stdout
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == \
        sorted(p.name.replace(".jpg", ".png") for p in sorted(photos.iterdir())[:2])


def test_worker_killed_mid_batch_is_retried_without_partial_or_duplicate_output(cluster, photos, tmp_path):
    batch = tmp_path / "in"
    batch.mkdir()
    names = []
    for i in range(6):  # larger photos: each task runs long enough to be caught mid-render
        src = KODAK / PHOTOS[i % len(PHOTOS)]
        im = Image.open(src).convert("RGB")
        name = f"p{i}.jpg"
        im.save(batch / name, quality=92)
        names.append(name)
    out = tmp_path / "out"
    driver = cluster.spawn([sys.executable, "-m", "silverprint", "render", str(batch), "--out-dir",
                            str(out), "--cluster", cluster.address])
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and time.monotonic() < deadline and driver.poll() is None:
        busy = cluster.workers_running("render_one")
        if busy:
            victim = busy[0]
            assert cmdline(victim).startswith("ray::render_one")
            os.kill(victim, signal.SIGKILL)
            killed = victim
        else:
            time.sleep(0.05)
    try:
        stdout, stderr = driver.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        driver.kill()
        raise
    assert killed is not None, "no worker was caught running a task"
    assert driver.returncode == 0, stderr
    assert "rendered 6 of 6" in stdout
    outputs = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert outputs == sorted(n.replace(".jpg", ".png") for n in names)  # none lost, none twice
    for name in outputs:
        with Image.open(out / name) as im:
            im.load()  # whole, not a partial file
            assert im.size == (768, 512) or im.size == (512, 768)
    assert _leftovers(out) == []


def test_video_split_into_shots_matches_local_and_keeps_audio(cluster, tmp_path):
    import av

    import videoclips as vc

    clip = vc.make_clip(tmp_path / "clip.mp4", vc.pan_zoom_shots(24, 2.0), size=(160, 120), fps=24)
    out, ref = tmp_path / "cluster.mp4", tmp_path / "local.mp4"
    result = _cli(cluster, "video", str(clip), "-o", str(out), "--crf", "0", "--chunk-frames", "8",
                  timeout=300)
    assert result.returncode == 0, result.stderr
    assert "2 shot(s), 6 chunk(s)" in result.stderr  # each 24-frame shot split on its keyframe grid
    local = _local("video", str(clip), "-o", str(ref), "--crf", "0", "-q")
    assert local.returncode == 0, local.stderr

    def read(path: Path):
        with av.open(str(path)) as c:
            v = c.streams.video[0]
            frames = [(float(f.pts * v.time_base), f.to_ndarray(format="gray")) for f in c.decode(v)]
        with av.open(str(path)) as c:
            audio = [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]
            comment = c.metadata.get("comment", "")
        return frames, audio, comment

    got, got_audio, mark = read(out)
    want, want_audio, _ = read(ref)
    with av.open(str(clip)) as c:
        src_audio = [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]
    assert len(got) == len(want) == 48
    assert [t for t, _ in got] == pytest.approx([t for t, _ in want], abs=1e-6)
    diff = [int(np.abs(a.astype(int) - b.astype(int)).max()) for (_, a), (_, b) in zip(got, want)]
    assert max(diff) <= 1, f"per-frame max difference from the local path: {diff}"
    assert got_audio == want_audio == src_audio  # copied packet by packet
    assert mark.startswith("Silverprint")
    hidden = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert hidden == [".silverprint-cluster.json"]  # the record stays; parts and temps are gone

    again = _cli(cluster, "video", str(clip), "-o", str(out), "--crf", "0")
    assert again.returncode == 0 and "unchanged since the last run, skipped" in again.stderr


def test_local_render_imports_no_ray(tmp_path, photos):
    code = ("import sys\nfrom silverprint.cli import main\n"
            f"rc = main(['render', {str(photos / 'kodim23.jpg')!r}, '-o', {str(tmp_path / 'x.png')!r}, '-q'])\n"
            "assert rc == 0\n"
            "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith(('ray.', 'silverprint.cluster'))))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={k: v for k, v in os.environ.items() if k != "SILVERPRINT_CLUSTER"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
