"""The CLI in a shell pipeline whose reader stops early (``silverprint styles list --json | head``)."""
from __future__ import annotations

import os
import subprocess
import sys

CLI = [sys.executable, "-c", "import sys; from silverprint.cli import main; sys.exit(main(sys.argv[1:]))"]


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path):
    env = dict(os.environ, SILVERPRINT_HOME=str(tmp_path))
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first byte is written
    try:
        proc = subprocess.run([*CLI, "styles", "list", "--json"], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(write_end)
    assert "Traceback" not in proc.stderr and proc.stderr == "", proc.stderr
    assert proc.returncode == 141
