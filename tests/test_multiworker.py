"""The deployment of docs/deployment.md, as it is written there: PostgreSQL + a `chroma run` server +
`jixiao index` + `jixiao serve --workers 2`. An admin uploads a DOCX through one worker; both workers
cite it in their next answers, and both answer concurrently in per-user order."""
from __future__ import annotations

import contextlib
import os
import time

import httpx
import pytest

from docx_notice import QUESTION, write_notice
from pg import cluster
from procs import chroma_server, jixiao_serve, run_cli

pytestmark = pytest.mark.integration
PASSWORD = "correct-horse-9"


def _fresh(url: str) -> httpx.Client:
    """A client without keep-alive: every request is a new connection, so the kernel spreads them over workers."""
    return httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_keepalive_connections=0))


def _login(url: str, user: str) -> httpx.Cookies:
    with _fresh(url) as c:
        r = c.post("/api/login", json={"username": user, "password": PASSWORD})
        r.raise_for_status()
        return r.cookies


def _ask_until_both_workers(url: str, cookies, question: str, tries: int = 60) -> dict[str, dict]:
    by_worker: dict[str, dict] = {}
    with _fresh(url) as c:
        c.cookies = cookies
        c.headers["X-CSRF-Token"] = cookies.get("jixiao_csrf") or ""  # adapters/csrf.py
        for _ in range(tries):
            r = c.post("/api/chat", json={"message": question})
            r.raise_for_status()
            by_worker[r.headers["x-jixiao-worker"]] = r.json()
            if len(by_worker) == 2:
                break
    return by_worker


@contextlib.contextmanager
def _stores(request, tmp_path):
    """PostgreSQL + a `chroma run` server (the documented deployment), or the embedded defaults."""
    if request.param == "embedded":
        yield {}
        return
    with chroma_server(tmp_path / "chroma") as chroma_url:
        yield {"JIXIAO_DATABASE_URL": cluster(request).new_database(), "JIXIAO_CHROMA_URL": chroma_url}


@pytest.fixture(params=["postgresql+chroma-server", "embedded"])
def deployment(request, tmp_path):
    with _stores(request, tmp_path) as stores:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
        env |= {"JIXIAO_DATA_DIR": str(tmp_path / "var"), "JIXIAO_EMBEDDER": "hash", **stores}
        run_cli(["index"], env)
        run_cli(["users", "add", "admin", "--role", "admin"], env, stdin=PASSWORD + "\n")
        run_cli(["users", "add", "zhang", "--role", "staff"], env, stdin=PASSWORD + "\n")
        with jixiao_serve(env, tmp_path / "serve.log", workers=2) as url:
            yield url, env, tmp_path


def test_an_uploaded_docx_is_citeable_from_both_workers(deployment):
    url, env, tmp_path = deployment
    admin = _login(url, "admin")
    with _fresh(url) as c:
        c.cookies = admin
        c.headers["X-CSRF-Token"] = admin.get("jixiao_csrf") or ""  # adapters/csrf.py
        staged = c.post("/api/admin/documents/uploads", params={"filename": "臭氧巡检通知.docx"},
                        content=write_notice(tmp_path / "n.docx").read_bytes(), headers={"Origin": url})
        assert staged.status_code == 200, staged.text
        (found,) = staged.json()["inspection"]["documents"]
        job = c.post(f"/api/admin/documents/uploads/{staged.json()['id']}/confirm", headers={"Origin": url}).json()
        deadline = time.monotonic() + 120
        while job["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.3)
            job = c.get(f"/api/admin/documents/jobs/{job['id']}").json()  # any worker reads the job
        assert job["state"] == "done", job

    answers = _ask_until_both_workers(url, _login(url, "zhang"), QUESTION)
    assert len(answers) == 2, "the kernel never handed a connection to the second worker"
    for worker, answer in answers.items():
        assert found["doc_id"] in {c["doc_id"] for c in answer["citations"]}, (worker, answer)
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "corpus reloaded" in log  # the worker that did not index reloaded on the version stamp


def test_two_workers_answer_many_users_at_once(deployment):
    url, env, tmp_path = deployment
    cookies = _login(url, "zhang")
    import concurrent.futures as cf

    def ask(i: int) -> tuple[str, float]:
        with _fresh(url) as c:
            c.cookies = cookies
            c.headers["X-CSRF-Token"] = cookies.get("jixiao_csrf") or ""  # adapters/csrf.py
            t0 = time.perf_counter()
            r = c.post("/api/chat", json={"message": "铸造厂能评几级？"})
            r.raise_for_status()
            assert r.json()["citations"]
            return r.headers["x-jixiao-worker"], time.perf_counter() - t0

    with cf.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(ask, range(24)))
    assert len({w for w, _ in results}) == 2
    assert max(s for _, s in results) < 10


NO_PACK_FLOW = ["自评", "汽修", "1", "否", "没有", "不存在", *["已完成"] * 9]  # an industry without a criteria pack


def test_a_follow_up_and_a_self_assessment_alternate_between_workers(deployment):
    """Turns land on either worker (no keep-alive); the follow-up context and the assessment session are in the
    database, so the worker that did not see the previous turn answers as if it had."""
    url, _env, _tmp = deployment
    cookies = _login(url, "zhang")

    def say(c, text: str) -> tuple[str, dict]:
        r = c.post("/api/chat", json={"message": text})
        r.raise_for_status()
        return r.headers["x-jixiao-worker"], r.json()

    with _fresh(url) as c:
        c.cookies = cookies
        c.headers["X-CSRF-Token"] = cookies.get("jixiao_csrf") or ""
        first, _ = say(c, "铸造厂评B级由谁审核？")
        for _ in range(40):  # "那C级的呢" names no industry: 铸造 must come from the stored context
            worker, reply = say(c, "那C级的呢？")
            if worker != first:
                break
        assert worker != first, "every request landed on one worker"
        assert "铸造" in reply["answer"] and "区县" in reply["answer"]

        workers, replies = set(), []
        for line in NO_PACK_FLOW:
            worker, reply = say(c, line)
            workers.add(worker)
            replies.append(reply["answer"])
        assert len(workers) == 2, "the assessment did not alternate between workers"
        assert replies[-1].startswith("【自评结果】") and "汽修" in replies[-1]
