"""Request and response models (``…Public`` leave the service; internal fields never leak)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

OutputFormat = Literal["png16", "tiff16", "jpeg"]
MEDIA_TYPES: dict[str, str] = {"png16": "image/png", "tiff16": "image/tiff", "jpeg": "image/jpeg"}
SUFFIXES: dict[str, str] = {"png16": ".png", "tiff16": ".tif", "jpeg": ".jpg"}

SessionState = Literal["pending", "open", "applied", "cancelled", "failed"]
SessionMode = Literal["auto", "interactive", "render"]
JobState = Literal["queued", "running", "done", "failed", "cancelled"]


class Message(BaseModel):
    detail: str


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    device: str
    companion_attached: bool
    renders_in_flight: int
    renders_queued: int


class StylePublic(BaseModel):
    name: str
    description: str = ""
    builtin: bool = False
    toned: bool = False
    source: str = ""
    pairs: int = 0
    subjects: list[str] = Field(default_factory=list)


class StylesPublic(BaseModel):
    default: str
    styles: list[StylePublic]


class RegionStat(BaseModel):
    name: str
    coverage: float = Field(description="mean of the soft mask: the share of the frame")
    mask_png: str | None = Field(None, description="base64 8-bit PNG at analysis size, when asked")


class AnalysisPublic(BaseModel):
    width: int
    height: int
    style: str
    regions: list[RegionStat]
    person_found: bool
    faces: int
    params: dict[str, Any] = Field(description="the sliders the style's proxies give for this image, "
                                               "overrides applied (same layout as a style's params)")


#: A slider override as data: one number, or the tone curve's knots for ``global.curve``.
Overridden = float | list[float]


class SessionPublic(BaseModel):
    id: str
    host: str
    name: str
    state: SessionState
    style: str | None = Field(None, description="style asked for (pending) or used (applied)")
    format: OutputFormat
    overrides: dict[str, Overridden] = Field(default_factory=dict)
    width: int | None = None
    height: int | None = None
    message: str | None = None
    created: float
    updated: float


class SessionsPublic(BaseModel):
    sessions: list[SessionPublic]
    companion_attached: bool


class ApplyRequest(BaseModel):
    """Used when the companion asks the service to render (no result body sent)."""

    style: str | None = None
    overrides: dict[str, Overridden] = Field(default_factory=dict)


class LearnRequest(BaseModel):
    portfolio: str = Field(description="folder of (original, B&W edit) pairs, any accepted layout")
    name: str = Field(min_length=1, max_length=120, description="name of the style to learn")


class JobPublic(BaseModel):
    id: str
    kind: Literal["learn"] = "learn"
    state: JobState
    progress: float = Field(0.0, ge=0.0, le=1.0)
    stage: str = ""
    message: str | None = None
    result: dict[str, Any] | None = None
    created: float
    updated: float


class JobsPublic(BaseModel):
    jobs: list[JobPublic]
