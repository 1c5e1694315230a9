"""`silverprint.fileio.atomic_path`: a file is replaced whole or not at all, with no temp file left."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from silverprint.fileio import atomic_path


def test_replaces_the_destination_and_leaves_only_it(tmp_path):
    dst = tmp_path / "out.json"
    dst.write_text("old")
    with atomic_path(dst) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.json.") and tmp.suffix == ".tmp"
        assert tmp.exists() and tmp.stat().st_size == 0  # reserved, still empty
        assert dst.read_text() == "old"  # untouched until the body is done
        tmp.write_text("new")
    assert dst.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_suffix_keeps_a_file_type_at_the_end(tmp_path):
    with atomic_path(tmp_path / "bw.mp4", suffix=".part.mp4") as tmp:
        assert tmp.name.startswith(".bw.mp4.") and tmp.name.endswith(".part.mp4")
        tmp.write_bytes(b"video")
    assert (tmp_path / "bw.mp4").read_bytes() == b"video"


def test_failure_mid_write_leaves_no_temp_file_and_the_old_destination(tmp_path):
    """A real write error (file size limit) half way through the body."""
    dst = tmp_path / "keep.bin"
    dst.write_bytes(b"previous")
    script = textwrap.dedent(f"""
        import resource, signal
        from pathlib import Path
        from silverprint.fileio import atomic_path
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        try:
            with atomic_path(Path({str(dst)!r})) as tmp:
                with open(tmp, "wb") as f:
                    for _ in range(10):
                        f.write(b"x" * 5000)
                        f.flush()
        except OSError as exc:
            print("failed", exc.errno)
        else:
            print("written")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("failed"), run.stdout
    assert dst.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.bin"]


def test_interrupt_after_writing_leaves_the_old_destination(tmp_path):
    dst = tmp_path / "style.json"
    dst.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(dst) as tmp:
            tmp.write_text("half of the new")
            raise KeyboardInterrupt
    assert dst.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["style.json"]


def test_failed_rename_removes_the_temp_file(tmp_path):
    """The destination is a non-empty folder: the rename itself fails, nothing is lost."""
    dst = tmp_path / "taken"
    dst.mkdir()
    (dst / "inside.txt").write_text("mine")
    with pytest.raises(OSError):
        with atomic_path(dst) as tmp:
            tmp.write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert (dst / "inside.txt").read_text() == "mine"


def test_missing_folder_is_an_oserror_before_the_body_runs(tmp_path):
    ran = []
    with pytest.raises(FileNotFoundError):
        with atomic_path(tmp_path / "nope" / "a.txt"):
            ran.append(True)
    assert not ran


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_mode_is_private_from_creation_and_exact_after(tmp_path):
    old_umask = os.umask(0)  # the most permissive umask: only `mode` may keep others out
    try:
        with atomic_path(tmp_path / "token", mode=0o600) as tmp:
            assert stat.S_IMODE(tmp.stat().st_mode) == 0o600  # never readable by others
            tmp.write_text("secret\n")
        assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600
        os.umask(0o077)  # a strict umask narrows the creation mode; `mode` is restored before the rename
        with atomic_path(tmp_path / "plugin.py", mode=0o755) as tmp:
            tmp.write_text("print()\n")
        assert stat.S_IMODE((tmp_path / "plugin.py").stat().st_mode) == 0o755
        os.umask(0o022)
        with atomic_path(tmp_path / "plain.txt") as tmp:
            tmp.write_text("x")
        assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == 0o644
    finally:
        os.umask(old_umask)
