"""Criteria packs in the console: an admin uploads a pack, sees the validation (line and fix for each
problem) and activates it; active staff packs live in `<data_dir>/criteria/` and every process picks them
up on its next assessment turn (`jixiao.bot.assess.pack.PackSource`).

Routes: GET /console/criteria (page), GET /api/criteria/packs, POST /api/criteria/check,
POST /api/criteria/activate, POST /api/criteria/deactivate. Every route needs an admin session
(`auth.require_admin`); the POSTs also need a same-origin Origin (or Referer) header, so another site
cannot make a signed-in admin's browser activate a pack.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from jixiao.adapters.auth import User, current_user, require_admin
from jixiao.bot.assess.pack import CRITERIA_DIR, load_packs
from jixiao.bot.assess.packcheck import CheckResult, activate, check_text, deactivate

STATIC = Path(__file__).parent / "static"
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
MAX_PACK_CHARS = 60_000

router = APIRouter()


def same_origin(request: Request) -> None:
    """403 unless the Origin (or, without it, the Referer) names this host."""
    source = request.headers.get("origin") or request.headers.get("referer")
    host = request.headers.get("host", "")
    if not source or urlsplit(source).netloc != host:
        raise HTTPException(status_code=403, detail="请求来源不是本站，已拒绝（请在服务台页面中操作）。")


def data_criteria(request: Request) -> Path:
    return Path(request.app.state.services.settings.data_dir) / "criteria"


class PackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80, description="文件名，如 zhuzao-paifang.yaml")
    text: str = Field(min_length=1, max_length=MAX_PACK_CHARS, description="指标包 YAML 全文")


class NameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=80)


def _out(result: CheckResult) -> dict:
    return {"ok": result.ok, "summary": result.summary(),
            "problems": [{"line": p.line, "where": p.where, "message": p.message, "fix": p.fix}
                         for p in result.problems]}


@router.get("/api/criteria/packs")
def list_packs(request: Request, user: User = Depends(require_admin)) -> dict:
    """Packs in force: the package's and the staff packs of the data directory (which replace a package
    file of the same name)."""
    staff_dir = data_criteria(request)
    packs = load_packs(CRITERIA_DIR, staff_dir)
    rows = []
    for pack, name in zip(packs.packs, packs.names):
        staff = (staff_dir / name).is_file()
        rows.append({"name": name, "industry": pack.industry, "branches": pack.branches, "source": pack.source,
                     "indicators": [i.name for i in pack.indicators], "warnings": pack.warnings is not None,
                     "origin": "staff" if staff else "package"})
    broken = [p.name for p in sorted(staff_dir.glob("*.yaml")) if p.name not in packs.names] \
        if staff_dir.is_dir() else []
    return {"packs": rows, "skipped": broken}


@router.post("/api/criteria/check")
def check_pack(body: PackIn, request: Request, user: User = Depends(require_admin)) -> dict:
    same_origin(request)
    return _out(check_text(body.text, body.name))


@router.post("/api/criteria/activate")
def activate_pack(body: PackIn, request: Request, user: User = Depends(require_admin)) -> dict:
    same_origin(request)
    result = activate(body.text, body.name, data_criteria(request))
    if not result.ok:
        raise HTTPException(status_code=422, detail=_out(result))
    return _out(result) | {"activated": body.name, "by": user.username}


@router.post("/api/criteria/deactivate")
def deactivate_pack(body: NameIn, request: Request, user: User = Depends(require_admin)) -> dict:
    same_origin(request)
    if not deactivate(body.name, data_criteria(request)):
        raise HTTPException(status_code=404, detail=f"数据目录中没有启用的指标包 {body.name!r}（内置指标包不能停用）。")
    return {"deactivated": body.name}


@router.get("/console/criteria", include_in_schema=False)
def criteria_page(request: Request):
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/console/criteria", status_code=303)
    if not user.is_admin:
        return HTMLResponse("<!doctype html><meta charset=utf-8><p>需要管理员权限。<a href=/console>返回服务台</a></p>",
                            status_code=403)
    return HTMLResponse((STATIC / "criteria.html").read_text(encoding="utf-8"),
                        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})
