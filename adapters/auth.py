"""Placeholder: staff users and sessions (tables on jixiao.adapters.db.metadata).

Contract used by other routers (the web-chat work fills it in):
- `User` with `.username`, `.role` ("staff" | "admin");
- FastAPI dependencies `require_staff(request) -> User` (401 without a session) and
  `require_admin(request) -> User` (403 for staff).
"""
from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request


@dataclass(frozen=True)
class User:
    username: str
    role: str


def require_staff(request: Request) -> User:
    raise HTTPException(status_code=401, detail="请先登录")


def require_admin(request: Request) -> User:
    raise HTTPException(status_code=401, detail="请先登录")
