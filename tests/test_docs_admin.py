"""Documents uploaded by an admin in the console: inspection, confirmation, incremental indexing, answers cite
the new document at once; removed documents stop being cited; bad files are refused in Chinese and change nothing.
Real services (SQLite, hash embedder, embedded Chroma) on a real uvicorn server."""
from __future__ import annotations

import io
import shutil
import time

import httpx
import pytest

from docx_notice import NUMBER, QUESTION, TITLE, write_notice
from servers import add_user, app_server, login

from jixiao.knowledge.corpus import open_corpus
from jixiao.retrieval.search import RetrievalConfig, Retriever
from jixiao.settings import Settings

pytestmark = pytest.mark.integration
API = "/api/admin/documents"


def wait_job(client: httpx.Client, job_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"{API}/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} not finished: {job}")


def upload(client: httpx.Client, url: str, name: str, data: bytes) -> httpx.Response:
    return client.post(f"{API}/uploads", params={"filename": name}, content=data, headers={"Origin": url})


def cited(answer: dict) -> set[str]:
    return {c["doc_id"] for c in answer["citations"]}


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """The packaged corpus indexed once (hash embedder); each test gets a copy of the data dir."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("indexed") / "var", embedder="hash")
    corpus = open_corpus(settings)
    corpus.index(retriever=Retriever(RetrievalConfig.from_settings(settings)))
    corpus.engine.dispose()
    return settings.data_dir


@pytest.fixture
def site(tmp_path, indexed):
    shutil.copytree(indexed, tmp_path / "var")
    settings = Settings(data_dir=tmp_path / "var", embedder="hash")
    add_user(settings, "admin", role="admin")
    add_user(settings, "staff")
    with app_server(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        login(client, "admin")
        yield settings, url, client


def test_an_uploaded_docx_is_inspected_confirmed_indexed_and_cited_then_removed(site, tmp_path):
    settings, url, client = site
    before = client.post("/api/chat", json={"message": QUESTION}).json()
    data = write_notice(tmp_path / "notice.docx").read_bytes()

    assert upload(client, url, "notice.docx", data).status_code == 200
    first = client.get(API).json()["jobs"][0]
    assert client.post(f"{API}/uploads/{first['id']}/cancel", headers={"Origin": url}).json()["state"] == "cancelled"
    assert not (settings.data_dir / "sources").exists()  # staging writes nothing

    staged = upload(client, url, "臭氧巡检通知.docx", data).json()
    (found,) = staged["inspection"]["documents"]
    assert (found["title"], found["doc_number"], found["date"], found["jurisdiction"]) == (
        TITLE, NUMBER, "2026-03-02", "重庆")
    assert found["sections"] == ["一、试点范围", "二、组织实施", "三、工作要求"] and found["verdict"] == "add"
    doc_id = found["doc_id"]

    job = client.post(f"{API}/uploads/{staged['id']}/confirm", headers={"Origin": url}).json()
    done = wait_job(client, job["id"])
    assert done["state"] == "done", done
    assert done["total"] > 0 and done["done"] == done["total"]  # only the new chunks were embedded
    assert (settings.data_dir / "sources" / f"{doc_id}.md").is_file()
    again = client.post(f"{API}/uploads/{staged['id']}/confirm", headers={"Origin": url})
    assert again.status_code == 409 and "不能再确认" in again.json()["detail"]

    answer = client.post("/api/chat", json={"message": QUESTION}).json()
    assert doc_id in cited(answer) and doc_id not in cited(before)
    cite = next(c for c in answer["citations"] if c["doc_id"] == doc_id)
    assert cite["date"] == "2026-03-02" and cite["label"].startswith(f"《{TITLE}》")
    shown = client.get("/api/clause", params={"doc_id": doc_id, "section": cite["section"], "quote": cite["quote"]})
    assert shown.status_code == 200 and "臭氧夜间巡检" in shown.text
    listing = {d["doc_id"]: d for d in client.get(API).json()["documents"]}
    assert listing[doc_id]["origin"] == "upload" and listing["cq-cbza-2024"]["origin"] == "package"

    dup = upload(client, url, "again.docx", data).json()
    assert dup["inspection"]["documents"][0]["verdict"] == "skip" and dup["inspection"]["writes"] == 0

    job = client.post(f"{API}/{doc_id}/status", json={"status": "removed"}, headers={"Origin": url}).json()
    assert wait_job(client, job["id"])["state"] == "done"
    after = client.post("/api/chat", json={"message": QUESTION}).json()
    assert doc_id not in cited(after)


def test_posts_need_an_admin_and_the_same_origin(site, tmp_path):
    settings, url, client = site
    data = write_notice(tmp_path / "n.docx").read_bytes()
    for headers in ({}, {"Origin": "http://evil.example"}, {"Referer": "http://evil.example/x"}):
        r = client.post(f"{API}/uploads", params={"filename": "n.docx"}, content=data, headers=headers)
        assert r.status_code == 403 and "来源" in r.json()["detail"]
    assert client.post(f"{API}/uploads", params={"filename": "n.docx"}, content=data,
                       headers={"Referer": url + "/console/documents"}).status_code == 200
    with httpx.Client(base_url=url, timeout=30) as staff:
        login(staff, "staff")
        assert staff.get(API).status_code == 403
        assert upload(staff, url, "n.docx", data).status_code == 403


def _pdf(encrypt: bool = False) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if encrypt:
        writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("name, data, status, reason", [
    ("表格.xlsx", b"PK\x03\x04 not a policy file", 422, "不支持的文件类型"),
    ("加密.pdf", _pdf(encrypt=True), 422, "已加密"),
    ("扫描件.pdf", _pdf(), 422, "扫描件"),
    ("假的.pdf", b"hello, not a pdf at all", 422, "不是 PDF"),
    ("旧版.docx", b"\xd0\xcf\x11\xe0 old word file", 422, "不是 Word"),
    ("空.txt", b"   \n", 422, "空的"),
    ("很大.txt", b"a" * (50 * 1024 * 1024), 413, "文件过大"),
])
def test_bad_files_get_a_chinese_reason_and_change_nothing(site, name, data, status, reason):
    settings, url, client = site
    before = client.get(API).json()
    r = upload(client, url, name, data)
    assert r.status_code == status and reason in r.json()["detail"], r.text
    after = client.get(API).json()
    assert after["jobs"] == before["jobs"] == [] and after["version"] == before["version"]
    assert not (settings.data_dir / "sources").exists()


def test_an_index_job_left_by_a_killed_worker_runs_again_at_start_up(tmp_path, indexed):
    import json

    from jixiao.adapters.app import _import_tables
    from jixiao.adapters.corpus_jobs import corpus_jobs
    from jixiao.db import create_all, make_engine

    shutil.copytree(indexed, tmp_path / "var")
    settings = Settings(data_dir=tmp_path / "var", embedder="hash")
    engine = make_engine(settings.db_url())
    _import_tables()
    create_all(engine)
    with engine.begin() as conn:  # what a worker killed mid-index leaves behind
        conn.execute(corpus_jobs.insert().values(kind="status", created_by="admin", created_at=time.time(),
                                                 state="indexing", plan=json.dumps({"change": {}}), done=3, total=9))
    engine.dispose()
    add_user(settings, "admin", role="admin")
    with app_server(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        login(client, "admin")
        assert wait_job(client, 1)["state"] == "done"
