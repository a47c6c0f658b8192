"""API shapes for templates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.notify.templates.domain import KEYS

Key = Literal[KEYS]  # type: ignore[valid-type]
Channel = Literal["sms", "email"]
Language = Literal["lo", "en", "th"]


class TemplateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key = Field(description="The message the template writes, e.g. `referral`")
    channel: Channel
    language: Language
    subject: str | None = Field(default=None, max_length=300, description="Email only")
    body: str = Field(min_length=1, max_length=5000, description="Jinja2 text")


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    channel: str
    language: str
    version: int
    subject: str | None
    body: str
    created_by: str
    created_at: datetime


class TemplateList(BaseModel):
    items: list[TemplateRead]


class PreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    channel: Channel
    language: Language
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(
        default=None, max_length=5000, description="A draft to try; the version in use if absent"
    )
    values: dict[
        Annotated[str, StringConstraints(max_length=100)],
        Annotated[str, StringConstraints(max_length=1000)] | int | float | bool | None,
    ] = Field(
        default_factory=dict,
        max_length=50,
        description="Values of variables (as long as a real message's at most); samples fill "
        "the rest",
    )


class Preview(BaseModel):
    key: str
    channel: str
    language: str
    subject: str | None
    text: str
    characters: int
    encoding: str = Field(description="GSM-7, or UCS-2 as Lao script needs")
    units: int = Field(description="Septets (GSM-7) or UTF-16 code units (UCS-2)")
    segments: int | None = Field(description="SMS parts the gateway bills; null for email")
    characters_per_segment: int | None
