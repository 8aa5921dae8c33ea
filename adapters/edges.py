"""Input at the edges of what the code can store: answered with a 4xx and a Chinese message, never a 500.

- `no_surrogates(value)`: pydantic validator for free text; a lone UTF-16 surrogate ("\\ud800" in JSON) cannot be
  encoded as UTF-8 and would fail deep in a store.
- `MAX_ID` / `MAX_OFFSET`: bounds for path ids and list offsets (SQLite integers are 64-bit; PostgreSQL's
  INTEGER is 32-bit).
- `install(app)`: backstop handlers for UnicodeEncodeError / OverflowError that still slip through → 400,
  logged at warning without a traceback.
"""
from __future__ import annotations

import logging
import re

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, field_validator

log = logging.getLogger(__name__)

MAX_ID = 2 ** 31 - 1
MAX_OFFSET = 100_000
_SURROGATE = re.compile("[\ud800-\udfff]")
BAD_CHARACTERS = "内容含有无法识别的字符（不成对的代理码位），请删除后重新输入。"
OUT_OF_RANGE = "编号或页码超出范围。"


def no_surrogates(value):
    """Raise ValueError (shown in Chinese) when a string, or any string inside a list/dict, has a lone surrogate."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise ValueError(BAD_CHARACTERS)
    elif isinstance(value, dict):
        for k, v in value.items():
            no_surrogates(k)
            no_surrogates(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            no_surrogates(v)
    return value


def install(app) -> None:
    @app.exception_handler(UnicodeEncodeError)
    async def _unencodable(request: Request, exc: UnicodeEncodeError):
        log.warning("request refused: unencodable text path=%s error=%s", request.url.path, exc.reason)
        return JSONResponse({"detail": BAD_CHARACTERS}, status_code=400)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError):
        log.warning("request refused: number out of range path=%s error=%s", request.url.path, exc)
        return JSONResponse({"detail": OUT_OF_RANGE}, status_code=400)


class TextBody(BaseModel):
    """Base of request bodies: unknown fields refused, no lone surrogates in any string."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_surrogates(cls, value):
        return no_surrogates(value)
