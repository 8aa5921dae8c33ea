"""API documentation at /docs, from local files only, for signed-in staff (or switched off).

FastAPI's own /docs loads Swagger UI from a CDN (blank on an intranet) and is open to anyone; `create_app`
turns it off and includes this router instead: `GET /openapi.json` and `GET /docs` need a staff session
(the page redirects to /login), and `JIXIAO_API_DOCS=false` removes both (404) for production.
The page (`static/docs.html` + `docs.js`) renders the OpenAPI document itself: no third-party assets.
"""
from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from jixiao.adapters.auth import current_user

router = APIRouter(include_in_schema=False)


def _enabled(request: Request) -> None:
    if not getattr(request.app.state.services.settings, "api_docs", True):
        raise HTTPException(status_code=404, detail="接口文档已关闭（JIXIAO_API_DOCS=false）。")


@router.get("/openapi.json")
def openapi(request: Request):
    _enabled(request)
    if current_user(request) is None:
        raise HTTPException(status_code=401, detail="请先登录")
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def docs(request: Request):
    _enabled(request)
    if current_user(request) is None:
        return RedirectResponse("/login?next=/docs", status_code=303)
    from jixiao.adapters.web import _page

    return _page("docs.html")
