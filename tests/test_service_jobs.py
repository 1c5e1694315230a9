"""Learning jobs over HTTP: progress, result, cancel and bad folders.

These run the app in-process (`TestClient`, lifespan included) with a *stand-in learner* that
reports progress like the real one; they test the job route and store, not learning itself (the
learner's own tests cover that). `test_real_learner_route` uses the real `silverprint.learn` when it
is present in this build.
"""
from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from silverprint.service import create_app
from silverprint.service.settings import ServiceSettings
from shared_data import PAIRS

TOKEN = "t" * 43
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def stand_in_learner(release: threading.Event):
    def learn(portfolio, name, *, progress):
        for step in range(1, 5):
            release.wait(5)
            progress("fit pairs", step, 4)  # the real learner's (stage, i, n) callback
        return {"name": name, "pairs": 4, "portfolio": portfolio, "heldout_psnr": 41.5}
    return learn


@pytest.fixture
def app_client(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    release = threading.Event()
    app = create_app(ServiceSettings(), token=TOKEN, learner=stand_in_learner(release), warm_up=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, release


def poll(client, jid, done, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{jid}", headers=AUTH).json()
        if done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job never reached the state: {job}")


def test_learning_job_reports_progress_and_result(app_client, tmp_path):
    client, release = app_client
    answer = client.post("/v1/jobs/learn", json={"portfolio": str(tmp_path), "name": "mine"}, headers=AUTH)
    assert answer.status_code == 202
    jid = answer.json()["id"]
    assert answer.json()["state"] in ("queued", "running")
    release.set()
    job = poll(client, jid, lambda j: j["state"] == "done")
    assert job["stage"] == "done"
    assert job["progress"] == 1.0 and job["result"]["pairs"] == 4 and job["result"]["name"] == "mine"
    assert [j["id"] for j in client.get("/v1/jobs", headers=AUTH).json()["jobs"]] == [jid]


def test_learning_job_can_be_cancelled(app_client, tmp_path):
    client, release = app_client
    jid = client.post("/v1/jobs/learn", json={"portfolio": str(tmp_path), "name": "x"}, headers=AUTH).json()["id"]
    poll(client, jid, lambda j: j["state"] == "running")
    assert client.post(f"/v1/jobs/{jid}/cancel", headers=AUTH).status_code == 200
    release.set()
    job = poll(client, jid, lambda j: j["state"] in ("cancelled", "done", "failed"))
    assert job["state"] == "cancelled" and job["progress"] < 1.0


def test_learning_job_rejects_a_missing_folder_and_needs_the_token(app_client, tmp_path):
    client, _ = app_client
    answer = client.post("/v1/jobs/learn", json={"portfolio": str(tmp_path / "nope"), "name": "x"}, headers=AUTH)
    assert answer.status_code == 400 and "not a folder" in answer.json()["detail"]
    assert client.post("/v1/jobs/learn", json={"portfolio": str(tmp_path), "name": "x"}).status_code == 401
    assert client.get("/v1/jobs/unknown", headers=AUTH).status_code == 404


def test_real_learner_route(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with TestClient(create_app(ServiceSettings(), token=TOKEN, warm_up=False), base_url="http://127.0.0.1") as client:
        jid = client.post("/v1/jobs/learn", json={"portfolio": str(empty), "name": "x"}, headers=AUTH).json()["id"]
        job = poll(client, jid, lambda j: j["state"] in ("done", "failed"), timeout=60)
        assert job["state"] == "failed" and "no usable" in job["message"]  # a reason, not a crash


@pytest.mark.slow
def test_real_learner_learns_a_style_over_http(tmp_path):
    """End to end on a real server: three real (colour, B&W edit) pairs, shrunk for speed."""
    from PIL import Image

    from servicehelp import running_service

    source = PAIRS / "t3mujin-trix400"
    portfolio = tmp_path / "portfolio"
    for kind in ("originals", "edits"):
        (portfolio / kind).mkdir(parents=True)
        for name in sorted(p.name for p in (source / "originals").iterdir())[:3]:
            with Image.open(source / kind / name) as img:
                img.reduce(4).save(portfolio / kind / name, quality=95)
    with running_service(tmp_path / "home") as service:
        client = service.client(timeout=60)
        job = client.learn(portfolio, "my-trix")
        deadline = time.monotonic() + 240
        seen = set()
        while job["state"] in ("queued", "running") and time.monotonic() < deadline:
            seen.add(round(job["progress"], 2))
            time.sleep(0.5)
            job = client.job(job["id"])
        assert job["state"] == "done", job
        assert job["result"]["pairs"] == 3 and job["result"]["styles"][0]["name"] == "my-trix"
        assert len(seen) >= 2  # progress moved while it ran
        assert "my-trix" in {s["name"] for s in client.styles()["styles"]}
