"""Policy documents in the console (admins): upload → what was found → confirm → incremental indexing with
progress; mark a document superseded or removed. Page: GET /console/documents; API under /api/admin/documents.

Every POST needs an admin session and a same-origin `Origin` (or, without it, `Referer`) header. The
upload body is the file itself (`POST /api/admin/documents/uploads?filename=…`), at most
`MAX_UPLOAD_BYTES`; a bad file is refused with the reason in Chinese and changes nothing.
"""
from __future__ import annotations

from importlib.resources import files
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict

from jixiao.adapters.auth import User, current_user, require_admin
from jixiao.adapters.services import Services, get_services
from jixiao.errors import InputError
from jixiao.knowledge.corpus import STATUSES, Corpus
from jixiao.knowledge.ingest.upload import MAX_UPLOAD_BYTES, inspect_upload

PREFIX = "/api/admin/documents"
STATIC = files("jixiao.adapters") / "static"
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
router = APIRouter(tags=["documents"])


def same_origin(request: Request) -> None:
    """Refuse a state-changing request another site's page could have sent (403, Chinese reason)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    host = request.headers.get("host", "")
    if not claimed or urlsplit(claimed).netloc != host:
        raise HTTPException(status_code=403, detail="请求来源无法确认：请在本站的文件管理页面中操作。")


def jobs_of(services: Services):
    from jixiao.adapters.corpus_jobs import CorpusJobs

    jobs = services.extras.get("corpus_jobs")
    if jobs is None:
        jobs = services.extras["corpus_jobs"] = CorpusJobs(Corpus(services.settings, services.engine),
                                                           services.engine)
    return jobs


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    superseded_by: str | None = None


@router.get("/console/documents", include_in_schema=False)
def documents_page(request: Request):
    """The documents page (static; data from the API below). Without a session: the login page."""
    if current_user(request) is None:
        return RedirectResponse("/login?next=/console/documents", status_code=303)
    return HTMLResponse((STATIC / "documents.html").read_text(encoding="utf-8"),
                        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})


@router.get(PREFIX, summary="知识库文件与最近的导入任务")
def list_documents(user: User = Depends(require_admin), services: Services = Depends(get_services)) -> dict:
    jobs = jobs_of(services)
    entries = jobs.corpus.entries()
    return {"documents": [dict(e.__dict__, status_text=STATUSES.get(e.status, e.status)) for e in entries],
            "version": jobs.corpus.version(), "jobs": jobs.recent(), "max_upload_mb": MAX_UPLOAD_BYTES // 1024 // 1024}


@router.post(PREFIX + "/uploads", summary="上传文件，返回识别结果（待确认）",
             dependencies=[Depends(same_origin)])
async def upload(request: Request, filename: str = Query(..., min_length=1, max_length=255),
                 user: User = Depends(require_admin), services: Services = Depends(get_services)) -> dict:
    import anyio

    data = await request.body()
    jobs = jobs_of(services)
    try:
        inspection = await anyio.to_thread.run_sync(inspect_upload, filename, data, jobs.corpus.existing())
    except InputError as exc:
        raise HTTPException(status_code=422, detail=str(exc))
    return jobs.stage(inspection, user.username)


@router.post(PREFIX + "/uploads/{job_id}/confirm", summary="确认导入并建立索引",
             dependencies=[Depends(same_origin)])
def confirm(job_id: int, user: User = Depends(require_admin), services: Services = Depends(get_services)) -> dict:
    return _act(lambda jobs: jobs.confirm(job_id, user.username), services)


@router.post(PREFIX + "/uploads/{job_id}/cancel", summary="放弃这次上传", dependencies=[Depends(same_origin)])
def cancel(job_id: int, user: User = Depends(require_admin), services: Services = Depends(get_services)) -> dict:
    return _act(lambda jobs: jobs.cancel(job_id), services)


@router.get(PREFIX + "/jobs/{job_id}", summary="导入任务的进度")
def job(job_id: int, user: User = Depends(require_admin), services: Services = Depends(get_services)) -> dict:
    return _act(lambda jobs: jobs.get(job_id), services)


@router.post(PREFIX + "/{doc_id}/status", summary="标记文件有效、已被替代或移除",
             dependencies=[Depends(same_origin)])
def set_status(doc_id: str, body: StatusIn, user: User = Depends(require_admin),
               services: Services = Depends(get_services)) -> dict:
    return _act(lambda jobs: jobs.change_status(doc_id, body.status, body.superseded_by or None, user.username),
                services)


def _act(action, services: Services) -> dict:
    try:
        return action(jobs_of(services))
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc.args[0]))
    except InputError as exc:
        raise HTTPException(status_code=409, detail=str(exc))
