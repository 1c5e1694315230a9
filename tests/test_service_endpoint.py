"""Where clients find the service and how the token is kept (no server needed)."""
from __future__ import annotations

import json
import os
import stat

import pytest

from silverprint.errors import SilverprintError
from silverprint.service import endpoint


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path))
    monkeypatch.delenv("SILVERPRINT_URL", raising=False)
    monkeypatch.delenv("SILVERPRINT_TOKEN", raising=False)
    return tmp_path


def test_token_created_once_with_mode_0600_and_kept(home):
    token = endpoint.ensure_token()
    path = home / "config" / "token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(token) >= 40
    assert endpoint.ensure_token() == token == endpoint.read_token()


def test_url_order_env_then_live_service_json_then_default(home, monkeypatch):
    default = f"http://127.0.0.1:{endpoint.DEFAULT_PORT}"
    assert endpoint.service_url() == default
    endpoint.write_endpoint_file("http://127.0.0.1:5555")
    assert endpoint.service_url() == "http://127.0.0.1:5555"  # this process is alive
    (home / "config" / "service.json").write_text(json.dumps({"url": "http://127.0.0.1:6666", "pid": 2**22 + 7}))
    assert endpoint.service_url() == default  # a service that has gone is ignored
    monkeypatch.setenv("SILVERPRINT_URL", "http://localhost:7777/")
    assert endpoint.service_url() == "http://localhost:7777"


def test_endpoint_file_removed_only_by_its_owner(home):
    endpoint.write_endpoint_file("http://127.0.0.1:5555")
    endpoint.clear_endpoint_file()
    assert not (home / "config" / "service.json").exists()
    (home / "config" / "service.json").write_text(json.dumps({"url": "x", "pid": 1}))
    endpoint.clear_endpoint_file()
    assert (home / "config" / "service.json").exists()


def test_bind_address_is_loopback_only(monkeypatch):
    assert endpoint.bind_address(0) == ("127.0.0.1", 0)
    monkeypatch.setenv("SILVERPRINT_URL", "http://localhost:9999")
    assert endpoint.bind_address(None) == ("127.0.0.1", 9999)
    monkeypatch.setenv("SILVERPRINT_URL", "http://0.0.0.0:9999")
    with pytest.raises(SilverprintError, match="127.0.0.1"):
        endpoint.bind_address(None)


def test_serve_host_check_reports_absence(home, monkeypatch):
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, SILVERPRINT_URL="http://127.0.0.1:9")
    run = subprocess.run([str(Path(sys.executable).with_name("silverprint")), "serve", "--host-check"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "no silverprint service" in run.stdout
