"""The corpus: packaged sources + `<data_dir>/sources` (where `jixiao docs add` writes), minus removed and
superseded documents; `jixiao index` bumps the version and a running retriever reloads before its next turn."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from docx_notice import QUESTION, write_notice

from jixiao.cli import _wire, app
from jixiao.errors import InputError
from jixiao.knowledge.basis import SOURCES_DIR
from jixiao.knowledge.corpus import CorpusWatch, open_corpus
from jixiao.retrieval.search import RetrievalConfig, Retriever
from jixiao.settings import Settings


def test_docs_add_writes_to_the_data_dir_and_index_and_watch_pick_it_up(tmp_path, monkeypatch):
    monkeypatch.setenv("JIXIAO_EMBEDDER", "hash")
    if not app.registered_commands:
        _wire()
    settings = Settings()
    runner = CliRunner()
    package_before = sorted(p.name for p in SOURCES_DIR.iterdir())
    assert runner.invoke(app, ["index"]).exit_code == 0
    corpus = open_corpus(settings)
    serving = Retriever(RetrievalConfig.from_settings(settings))
    serving.warm_up()
    watch = CorpusWatch(corpus, serving)
    assert watch.check() is False  # nothing changed since it loaded

    added = runner.invoke(app, ["docs", "add", str(write_notice(tmp_path / "n.docx"))])
    assert added.exit_code == 0, added.output
    (written,) = (Path(settings.data_dir) / "sources").glob("*.md")
    assert sorted(p.name for p in SOURCES_DIR.iterdir()) == package_before  # never into the package
    doc_id = written.stem
    listed = runner.invoke(app, ["docs", "list"]).output
    assert doc_id in listed and "cq-cbza-2024" in listed

    assert runner.invoke(app, ["index"]).exit_code == 0
    assert doc_id not in {h.doc_id for h in serving.search(QUESTION, k=3)}  # still the old index …
    assert watch.check() is True  # … until the version check before the next turn
    assert serving.search(QUESTION, k=3)[0].doc_id == doc_id

    corpus.set_status(doc_id, "superseded", superseded_by="cq-cbza-2024", by="admin")
    assert doc_id not in {d.doc_id for d in corpus.documents()}
    corpus.index(retriever=Retriever(RetrievalConfig.from_settings(settings)))
    assert watch.check() is True
    assert doc_id not in {h.doc_id for h in serving.search(QUESTION, k=10)}
    entry = {e.doc_id: e for e in corpus.entries()}[doc_id]
    assert (entry.status, entry.superseded_by, entry.origin) == ("superseded", "cq-cbza-2024", "upload")


def test_removing_a_packaged_notice_removes_its_attachments(tmp_path):
    corpus = open_corpus(Settings(embedder="hash"))
    corpus.set_status("cq-cbza-2024", "removed")
    ids = {d.doc_id for d in corpus.documents()}
    assert "cq-cbza-2024" not in ids and not any(i.startswith("cq-cbza-2024-att") for i in ids)
    assert "cq-106-2024" in ids
    with pytest.raises(InputError, match="没有文件"):
        corpus.set_status("no-such-doc", "removed")
    with pytest.raises(InputError, match="未知的状态"):
        corpus.set_status("cq-106-2024", "deleted")
