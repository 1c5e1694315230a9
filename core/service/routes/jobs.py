"""``/v1/jobs``: portfolio learning in the background, with progress the companion can poll."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam, Request

from ..jobs import Job, JobStore
from ..schemas import JobPublic, JobsPublic, LearnRequest
from .common import AUTH, ERRORS

router = APIRouter(prefix="/jobs", tags=["learning"], dependencies=AUTH, responses=ERRORS)
JobId = Annotated[str, PathParam(max_length=64)]


def _store(request: Request) -> JobStore:
    return request.app.state.jobs


def _get(request: Request, jid: str) -> Job:
    job = _store(request).get(jid)
    if job is None:
        raise HTTPException(404, f"no job {jid!r}")
    return job


@router.post("/learn", status_code=202, response_model=JobPublic,
             summary="learn a style from a portfolio folder of (original, B&W edit) pairs")
async def learn(request: Request, body: LearnRequest):
    from ...styles.style import check_name

    check_name(body.name)  # 400 now, not a failed job later (the learner checks it again)
    return _store(request).start(body.portfolio, body.name).public()


@router.get("", response_model=JobsPublic, summary="all recent jobs")
async def list_jobs(request: Request):
    return {"jobs": [j.public() for j in _store(request).all()]}


@router.get("/{jid}", response_model=JobPublic, summary="a job's state and progress")
async def read(request: Request, jid: JobId):
    return _get(request, jid).public()


@router.post("/{jid}/cancel", response_model=JobPublic, summary="stop a job at its next safe point")
async def cancel(request: Request, jid: JobId):
    job = _get(request, jid)
    _store(request).cancel(job)
    return job.public()
