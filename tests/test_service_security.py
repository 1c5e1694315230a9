"""Security and robustness of a real `silverprint serve` process on a random loopback port.

One server for the module (temporary SILVERPRINT_HOME, 2 MiB upload limit so that the 413 path is
cheap to reach, long-polls capped at 0.5 s so that the schemathesis run stays bounded).
"""
from __future__ import annotations

import http.client
import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from servicehelp import running_service, small_photo
from shared_data import KODAK



@pytest.fixture(scope="module")
def service(tmp_path_factory):
    home = tmp_path_factory.mktemp("sp-security")
    env = {"SILVERPRINT_MAX_UPLOAD_MB": "2", "SILVERPRINT_MAX_WAIT_S": "0.5"}
    with running_service(home, env) as svc:
        yield svc


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> bytes:
    path = small_photo(tmp_path_factory.mktemp("photo") / "kodim23.png", KODAK / "kodim23.png", (64, 48))
    return path.read_bytes()


def raw(service, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
        token: str | None = "default") -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
    sent = {"Host": f"127.0.0.1:{service.port}"}
    if token == "default":
        token = service.token
    if token:
        sent["Authorization"] = f"Bearer {token}"
    sent.update(headers or {})
    conn.request(method, path, body=body, headers=sent)
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data


def test_token_file_is_private(service):
    token_file = service.home / "config" / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert len(service.token) >= 32


@pytest.mark.parametrize("token", [None, "", "wrong-token-0123456789abcdef0123456789"])
def test_missing_or_wrong_token_is_401(service, token):
    status, headers, body = raw(service, "GET", "/v1/styles", token=token)
    assert status == 401
    assert headers.get("www-authenticate") == "Bearer"
    assert "token" in json.loads(body)["detail"]


def test_right_token_is_accepted_and_health_is_open(service):
    assert raw(service, "GET", "/v1/styles")[0] == 200
    status, _, body = raw(service, "GET", "/v1/health", token=None)
    assert status == 200 and json.loads(body)["status"] == "ok"


@pytest.mark.parametrize("headers", [
    {"Host": "evil.example"},
    {"Host": "evil.example:80"},
    {"Host": "127.0.0.1.nip.io"},
    {"Origin": "http://evil.example"},
])
def test_non_loopback_host_or_origin_is_403(service, headers):
    for path in ("/v1/health", "/v1/openapi.json", "/v1/styles"):
        status, _, body = raw(service, "GET", path, headers=headers)
        assert status == 403, path
        assert "loopback" in json.loads(body)["detail"]


def test_loopback_origin_is_allowed(service):
    status, _, _ = raw(service, "GET", "/v1/styles", headers={"Origin": f"http://localhost:{service.port}"})
    assert status == 200


def test_over_limit_body_is_413(service):
    big = os.urandom(3 * 1024 * 1024)
    status, _, body = raw(service, "POST", "/v1/render", body=big,
                          headers={"Content-Type": "application/octet-stream"})
    assert status == 413
    assert "limit" in json.loads(body)["detail"]


def test_over_limit_chunked_body_is_413(service):
    """No Content-Length: the limit is enforced on the bytes as they arrive."""
    chunks = (os.urandom(256 * 1024) for _ in range(12))  # 3 MiB
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=60)
    conn.request("POST", "/v1/render", body=chunks, encode_chunked=True,
                 headers={"Host": f"127.0.0.1:{service.port}", "Authorization": f"Bearer {service.token}",
                          "Transfer-Encoding": "chunked"})
    try:
        answer = conn.getresponse()
        assert answer.status == 413
        assert "limit" in json.loads(answer.read())["detail"]
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the server dropped the connection instead of answering 413")
    finally:
        conn.close()


def test_non_image_is_400_json(service):
    status, headers, body = raw(service, "POST", "/v1/render?name=notes.txt", body=b"this is not an image\n" * 50)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert "notes.txt" in json.loads(body)["detail"]


def test_truncated_image_is_400_json(service, photo):
    status, _, body = raw(service, "POST", "/v1/render?name=cut.png", body=photo[: len(photo) // 2])
    assert status == 400
    detail = json.loads(body)["detail"]
    assert detail.startswith("cut.png:")


def test_empty_body_is_400(service):
    status, _, body = raw(service, "POST", "/v1/render", body=b"")
    assert status == 400 and "empty" in json.loads(body)["detail"]


def test_unknown_style_and_bad_slider_are_client_errors(service, photo):
    assert raw(service, "POST", "/v1/render?style=no-such-style", body=photo)[0] == 404
    assert raw(service, "POST", "/v1/render?style=../../etc/passwd", body=photo)[0] == 404
    status, _, body = raw(service, "POST", "/v1/render?set=sky.exposure=99", body=photo)
    assert status == 400 and "exposure" in json.loads(body)["detail"]


def test_eight_clients_ten_renders_each(service, photo):
    """80 renders at once through the bounded queue: every one succeeds with the same grey image."""
    results: list[bytes] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        client = service.client(timeout=300)
        for _ in range(10):
            try:
                data = client.render(photo, fmt="png16", name="kodim23.png")
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                with lock:
                    errors.append(exc)
                return
            with lock:
                results.append(data)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(results) == 80
    first = np.asarray(Image.open(io.BytesIO(results[0])))
    assert first.shape == (48, 64) and first.dtype == np.uint16
    for data in results[1:]:
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), first)
    health = service.client().health()
    assert health["renders_in_flight"] == 0 and health["renders_queued"] == 0


def test_client_disconnect_mid_upload_does_not_break_later_requests(service, photo):
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", service.port), timeout=10)
        sock.sendall((f"POST /v1/render HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\n"
                      f"Authorization: Bearer {service.token}\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: {1024 * 1024}\r\n\r\n").encode() + photo[:2000])
        sock.close()
    data = service.client(timeout=120).render(photo)
    assert np.asarray(Image.open(io.BytesIO(data))).shape == (48, 64)
    health = service.client().health()
    assert health["renders_in_flight"] == 0 and health["renders_queued"] == 0


def test_openapi_schema_lists_routes_under_v1(service):
    status, _, body = raw(service, "GET", "/v1/openapi.json", token=None)
    assert status == 200
    paths = json.loads(body)["paths"]
    assert paths and all(p.startswith("/v1/") for p in paths)
    for needed in ("/v1/render", "/v1/analyse", "/v1/styles", "/v1/sessions", "/v1/sessions/{sid}/apply",
                   "/v1/jobs/learn"):
        assert needed in paths


def test_schemathesis_finds_no_server_errors(tmp_path):
    """A bounded fuzzing run over the whole OpenAPI schema: no answer may be a 5xx.

    The learning route is left out: a generated folder name such as "/" would start learning on the
    whole disk (the route is covered by the learning-job tests). The run gets a service of its own:
    on the module's, the bridge sessions the other tests left open plus the fuzzer's filled the
    store, and its designed back-pressure answer (503 "too many open bridge sessions", with
    Retry-After) counted as a server error; the session limit is raised above what this bounded
    run can open.
    """
    with running_service(tmp_path / "home", {"SILVERPRINT_MAX_UPLOAD_MB": "2", "SILVERPRINT_MAX_WAIT_S": "0.5",
                                             "SILVERPRINT_MAX_SESSIONS": "512"}) as service:
        cmd = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{service.url}/v1/openapi.json",
               "-H", f"Authorization: Bearer {service.token}", "--checks", "not_a_server_error",
               "--max-examples", "6", "--seed", "7", "--max-time", "25", "--request-timeout", "60",
               "--exclude-path", "/v1/jobs/learn", "--generation-codec", "ascii", "--no-color",
               "--report-dir", str(tmp_path / "report")]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
