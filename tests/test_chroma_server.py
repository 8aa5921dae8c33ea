"""JIXIAO_CHROMA_URL: `jixiao index` writes to a real `chroma run` on loopback and search is served from it."""
from __future__ import annotations

import os

import pytest

from procs import chroma_server, run_cli

from jixiao.errors import ConfigError
from jixiao.retrieval.search import RetrievalConfig, Retriever, open_retriever
from jixiao.retrieval.store import COLLECTION, VectorStore
from jixiao.retrieval.embed import HashEmbedder
from jixiao.settings import Settings

pytestmark = pytest.mark.integration


def test_index_writes_to_the_chroma_server_and_search_reads_it(tmp_path):
    data = tmp_path / "var"
    with chroma_server(tmp_path / "chroma") as url:
        env = dict(os.environ, JIXIAO_DATA_DIR=str(data), JIXIAO_EMBEDDER="hash", JIXIAO_CHROMA_URL=url)
        out = run_cli(["index"], env).stdout
        assert "added=" in out and "chunks=" in out
        assert not (data / "retrieval" / "chroma").exists()  # nothing in the embedded store

        import chromadb

        host, port = url.removeprefix("http://").split(":")
        server_count = chromadb.HttpClient(host=host, port=int(port)).get_collection(COLLECTION).count()
        chunks = int(out.split("chunks=")[1].split()[0])
        cards = int(out.split("cards=")[1].split()[0])  # question cards share the collection with the chunks
        assert server_count == chunks + cards and chunks > 100 and cards > 1000

        settings = Settings(data_dir=data, embedder="hash", chroma_url=url)
        retriever = open_retriever(settings)
        hits = retriever.search("汽修申报由谁审核", k=5)
        assert hits and all(h.doc_id for h in hits)
        assert retriever.store.count() == chunks + cards  # the vectors came from the server

        again = run_cli(["index"], env).stdout  # incremental: nothing new to embed
        assert "added=0" in again


def test_an_unreachable_chroma_url_names_the_variable(tmp_path):
    from procs import free_port

    store = VectorStore(tmp_path / "unused", HashEmbedder(), url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ConfigError, match="JIXIAO_CHROMA_URL"):
        store.open()
    with pytest.raises(ConfigError, match="JIXIAO_CHROMA_URL"):
        VectorStore(tmp_path / "unused", HashEmbedder(), url="ftp://x").open()


def test_the_embedded_store_stays_the_default(tmp_path):
    cfg = RetrievalConfig.from_settings(Settings(data_dir=tmp_path / "var", embedder="hash"))
    assert cfg.chroma_url is None and Retriever(cfg).store.url is None
