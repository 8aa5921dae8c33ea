"""Policy answers from passages: the best sentences of the retrieved clauses quoted and cited, 重庆 documents first
and others labelled; or, when the calibrated decision or the topic says they do not answer, an abstention."""
from __future__ import annotations

import dataclasses
import re

from jixiao.bot.abstention import abstain, not_answered
from jixiao.bot.answer import Answer, citation, doc_jurisdiction, doc_title, find_document, uncovered_years
from jixiao.bot.confidence import AbstainModel, Evidence, evidence
from jixiao.bot.incentive_answer import INCENTIVES_DOC, incentive_focus
from jixiao.bot.incentives import incentives
from jixiao.bot.passage_search import PassageSearch
from jixiao.bot.answerability import asked_slots, listing_pattern, slot_in, statements
from jixiao.bot.passages import Labelled, best_sentences, focus_clause, outline_of, row_named, top_clauses
from jixiao.bot.short_answer import finish, short_lines
from jixiao.bot.scope import CONCENTRATION, admin_topic, threshold_subjects, topic_covered
from jixiao.bot.tool_answers import cite_dicts
from jixiao.bot.timeplace import place_words
from jixiao.bot.understanding import DEFAULT_REGION, Understanding

MIN_SCORE = 0.3  # top hit below this → abstain (scale of the retriever's score; tune with eval)
_BROAD = re.compile(r"大纲|目录|都有哪些|哪几部分|包括哪些|准备哪些")  # asks for a whole outline


class PolicyAnswers:
    """Answers quoted from `search`'s passages scoring at least `min_score`; `abstain_model` (None: answer from
    every passage found) decides whether they answer. `last_evidence` keeps the features of the last decision."""

    def __init__(self, search: PassageSearch | None, min_score: float = MIN_SCORE,
                 abstain_model: AbstainModel | None = None):
        self.search = search
        self.min_score = min_score
        self.abstain_model = abstain_model
        self.last_evidence: Evidence | None = None
        self.answerability = None  # jixiao.bot.answerability.Answerability, set by the assistant

    def loaded_value(self, u: Understanding) -> Answer | None:
        """A threshold question a loaded clause answers: a retrieved sentence names the question's pollutant or
        indicator and gives a concentration (e.g. 秋冬季方案 “氨逃逸浓度控制在8毫克/立方米以下”)."""
        named = threshold_subjects(u.text)
        if not named:
            return None
        query = u.query or u.text
        place = u.region if u.region in place_words().documents else DEFAULT_REGION  # 开封's own limits are loaded
        hits = [h for h in self.search.search(query, k=5, filters={"jurisdiction": place}) or []
                if h.score >= self.min_score]
        for sentence, h in best_sentences(hits, query):
            if ((CONCENTRATION.search(sentence) or row_named(sentence, u.text))  # 合川区's row names its value
                    and any(n in sentence.upper() for n in named)
                    and (not u.industry or u.industry[:2] in sentence)):  # 铸造's limit is not 垃圾焚烧's
                c = citation(h.doc_id, h.section, sentence, title=doc_title(h.doc_id, h.title))
                lead = elsewhere_line(place) + "\n" if place != DEFAULT_REGION else ""
                return Answer(f"{lead}{sentence}（{c.label()}）", [dataclasses.asdict(c)], [], escalate=False,
                              confidence=0.7, intent=u.intent, evidence=[h.text for h in hits])
        return None

    def policy(self, u: Understanding, jurisdiction: str | None = None) -> Answer:
        """Quote the best sentences of the retrieved clauses; 重庆 documents first, others labelled."""
        if "文号" in u.text:
            numbered = document_number(u)
            if numbered is not None:
                return numbered
        if self.search is None:
            return abstain(u, "需要查阅政策原文，但文件检索暂不可用")
        query = u.query or u.text
        prefer = self._asked(u)
        hits, picked = self._passages(query, jurisdiction or DEFAULT_REGION, prefer, u)
        fallback = False
        if not picked and not jurisdiction:  # nothing in Chongqing's documents: look at the others, labelled
            hits, picked = self._passages(query, None, prefer, u)
            fallback = bool(picked)
        chunks = [{"doc_id": h.doc_id, "section": h.section, "score": round(float(h.score), 4)} for h in hits]
        a = self._instead_of_quoting(u, query, hits, picked, jurisdiction, fallback)
        if a is None and picked and not jurisdiction and not fallback and DEFAULT_REGION not in u.text \
                and not self._backed(u, picked) and self._card_elsewhere(u):
            elsewhere = self._elsewhere(u, query, prefer, theirs=True)  # their rule is asked, ours only nearby
            if elsewhere is not None:
                return elsewhere
        if a is not None and a.escalate and not jurisdiction and not fallback and DEFAULT_REGION not in u.text:
            elsewhere = self._elsewhere(u, query, prefer)  # Chongqing's clauses do not answer: a loaded other place's?
            if elsewhere is not None:
                return elsewhere
        if a is not None:
            a.chunks = chunks
            return a
        return _quoted(u, hits, picked, jurisdiction, fallback, chunks)

    def _elsewhere(self, u: Understanding, query: str, prefer: tuple, theirs: bool = False) -> Answer | None:
        """The other loaded jurisdictions' clauses (聊城, 开封) when Chongqing's do not answer, one of theirs passes every
        check and a clause card of it matches the question at least `card_backing` ("多个厂区怎么报": 聊城's plan rules
        on it, Chongqing's notice does not), quoted under "重庆的文件中没有找到直接规定" and labelled by place. Not when
        the question names 重庆 ("那重庆呢"): then Chongqing's silence is the answer."""
        best = None
        for place in place_words().documents:
            hits, picked = self._passages(query, place, prefer, u)
            if picked and (best is None or hits[0].score > best[0][0].score):
                best = (hits, picked, place)
        if best is None:
            return None
        hits, picked, place = best
        # `theirs` (their card matches best): their cards name their place ("聊城企业没主动申报会怎么样"), so the
        # question is matched as if it did too
        if not self._backed(u, picked, f"{place}{u.text}" if theirs else None) \
                or self._instead_of_quoting(u, query, hits, picked, None, True) is not None:
            return None  # only a clause a card of theirs asks the same way: a loosely related rule is no answer
        chunks = [{"doc_id": h.doc_id, "section": h.section, "score": round(float(h.score), 4)} for h in hits]
        return _quoted(u, hits, picked, None, True, chunks)

    def _card_elsewhere(self, u: Understanding) -> bool:
        """The clause card matching the question best is another loaded jurisdiction's (聊城, 开封), by at least
        `elsewhere_margin` over the best of Chongqing's."""
        if not hasattr(self.search, "match_cards") or self.answerability is None:
            return False
        matches = self.search.match_cards(u.text, k=8, kinds=("clause",))

        def place(m) -> str | None:  # a clause card's id starts with its document's id
            return doc_jurisdiction(m.card_id.split(".", 1)[0])

        if not matches or place(matches[0]) in (None, "", DEFAULT_REGION):
            return False
        ours = max((m.score for m in matches if place(m) == DEFAULT_REGION), default=0.0)
        return matches[0].score >= ours + self.answerability.lexicon.elsewhere_margin

    def _instead_of_quoting(self, u: Understanding, query: str, hits: list, picked: list, jurisdiction: str | None,
                            fallback: bool) -> Answer | None:
        """The answer when the picked sentences are not to be quoted: the calibrated decision says they do not
        answer, the topic lies outside the documents, one 惠企 measure is asked about, or nothing was found."""
        if picked:
            self.last_evidence = evidence(query, hits, self.search)
            if self.abstain_model and not self.abstain_model.fits(self.search):  # other embedder: cosine unknown
                self.last_evidence = dataclasses.replace(self.last_evidence, dense=None)
            decision = self.abstain_model.decide(self.last_evidence) if self.abstain_model else "answer"
            if decision != "answer" and not self._backed(u, picked):  # a card of the quoted clause asks the same
                return not_answered(u, picked if decision == "related" else [], fallback or bool(jurisdiction))
        topic = admin_topic(u.text)
        if picked and topic and not topic_covered(topic, [h.text for h in hits]):  # 排污许可证延续 ≠ a clause naming 排污许可
            return abstain(u, f"涉及{topic[0]}{'、'.join(topic[1])}等环境管理事项，不属于重污染天气绩效分级（“创B争A”）文件的内容")
        if picked and self.answerability is not None:
            coverage = self._coverage(u, picked)
            if not coverage.ok:
                a = not_answered(u, picked, fallback or bool(jurisdiction), coverage.missing)
                a.route_note = {"check": coverage.to_json()}
                return a
        if picked and not jurisdiction and hits[0].doc_id == INCENTIVES_DOC:  # a question about one 惠企 measure
            focus = _att1_clause(hits[0].section)
            if focus and focus_clause(INCENTIVES_DOC, query) == focus:  # retriever and wording agree
                grade = u.grade or "B"
                r = incentives(grade, u.region)
                if r.found:
                    return incentive_focus(u, {"grade": grade, "region": u.region}, r, focus)
        missing = uncovered_years(u.text, [s for s, _ in picked[:1]] + [_doc_year(h.doc_id) for _, h in picked[:1]])
        if missing:
            return abstain(u, f"涉及{'、'.join(missing)}的安排，已收录的文件没有{missing[0]}的规定")
        if not picked:
            return abstain(u, "在已收录的文件中没有找到明确规定")
        return None

    def _coverage(self, u: Understanding, picked: list):
        """Do the clauses to be quoted cover the question (answerability: focus words and the asked slot)?"""
        from jixiao.bot.entities import entity_words

        used = list(dict.fromkeys(h for _, h in picked))
        vocabulary = []
        if hasattr(self.search, "card_questions"):
            for cid in {getattr(h, "chunk_id", "") for h in used}:
                vocabulary += self.search.card_questions(cid)
        # a follow-up ("那重庆呢？") is asked with its previous question: that is what the clauses must cover
        asked = u.query if u.followup and u.query else u.text
        return self.answerability.check(asked, [h.text for h in used], vocabulary, entity_words(u),
                                        focus=not self._backed(u, picked),
                                        said="\n".join(sentence for sentence, _ in picked))

    def _backed(self, u: Understanding, picked: list, text: str | None = None) -> bool:
        """A clause card of a quoted clause matches the question at least `card_backing`: the question is a known
        way of asking for that clause ("申报材料里头有点水分" ≈ a card about 虚假材料)."""
        if not hasattr(self.search, "match_cards") or self.answerability is None:
            return False
        ids = {getattr(h, "chunk_id", "") for _, h in picked}
        floor = self.answerability.lexicon.card_backing
        return any(m.score >= floor and self.search.card_target(m.card_id) in ids
                   for m in self.search.match_cards(text or u.text, k=5, kinds=("clause",)))

    def _asked(self, u: Understanding) -> tuple:
        """The evidence patterns of the kinds of item the question asks (answerability slots)."""
        if self.answerability is None:
            return ()
        lex = self.answerability.lexicon
        listing = listing_pattern(u.text, lex)  # "覆盖哪些县": a sentence enumerating 县
        slots = [lex.slots[s] for s in asked_slots(u.text, lex)]
        return tuple(re.compile(s.evidence) for s in slots if s.prefer) + ((listing,) if listing else ()) + tuple(
            Labelled(rf"(?:{s.label})[:：\s]{{0,3}}(?:{s.evidence})") for s in slots if s.prefer and s.label)

    def _passages(self, query: str, jurisdiction: str | None, prefer: tuple = (),
                  u: Understanding | None = None) -> tuple[list, list]:
        filters = {"jurisdiction": jurisdiction} if jurisdiction else None
        hits = list(self.search.search(query, k=5, filters=filters) or [])
        good = [h for h in hits if h.score >= self.min_score]
        vocabulary = getattr(self.search, "vocabulary", None)  # 塞红包 picks the sentence that says 贿赂
        bridged = " ".join(vocabulary.query_terms(query)) if vocabulary is not None else ""

        def pick(among: list) -> list:
            return best_sentences(among, query, prefer=prefer, bridged=bridged, semantic=self._semantic,
                                  anchor=self._anchor(query, among)) if among else []

        picked = pick(good)
        if picked and u is not None and self.answerability is not None:
            picked = self._covering(u, good, picked, pick)
        return hits, picked

    def _covering(self, u: Understanding, hits: list, picked: list, pick) -> list:
        """When the picked sentences miss a specific word of the question that another retrieved clause holds
        (itself or the policy term it stands for: 塞红包 → 贿赂), the sentences of the clauses holding it instead —
        if they then cover the question; the first pick otherwise."""
        coverage = self._coverage(u, picked)
        if coverage.ok or coverage.check != "focus":
            return picked
        wanted = {w for m in coverage.missing for w in (m, *self.answerability.bridges(m))}
        holding = [h for h in hits if any(w in (h.text or "") for w in wanted)]
        if not holding or len(holding) == len(hits):
            return picked
        again = pick(holding)
        return again if again and self._coverage(u, again).ok else picked

    def _anchor(self, query: str, hits: list) -> frozenset[str]:
        """The retrieved clauses a clause card matches at least `card_backing`: the question is a known way of
        asking for them, so their sentences lead ("没按时申报的咋处理" quotes the clause its card is about)."""
        if not hasattr(self.search, "match_cards") or self.answerability is None:
            return frozenset()
        ids = {getattr(h, "chunk_id", "") for h in hits}
        floor = self.answerability.lexicon.card_backing
        return frozenset(t for m in self.search.match_cards(query, k=3, kinds=("clause",))
                         if m.score >= floor and (t := self.search.card_target(m.card_id)) in ids)

    def _semantic(self, query: str, sentences: list[str]) -> list[float] | None:
        """Cosine of each candidate sentence to the question, from the sentence vectors `jixiao index` built
        (bot/sentence_vectors.py); None without them or for another embedder: the words alone decide."""
        store = self._sentence_store()
        if store is None or not sentences:
            return None
        return store.cosines(self.search.embedder.embed_query(query), sentences)

    def _sentence_store(self):
        if "_sentences" not in self.__dict__:
            from jixiao.bot.sentence_vectors import SentenceVectors, vectors_path

            cfg = getattr(self.search, "config", None)
            store = None
            if cfg is not None and getattr(self.search, "embedder", None) is not None:
                store = SentenceVectors.open(vectors_path(cfg.data_dir))
                if store is not None and store.model != f"{cfg.embedder}:{cfg.embedder_model}":
                    store = None  # vectors of another model: their cosines mean nothing here
            self._sentences = store
        return self._sentences


def elsewhere_line(place: str) -> str:
    """The label above another jurisdiction's rule."""
    return f"以下是{place}文件的规定，不是重庆的规定："


def _quoted(u: Understanding, hits: list, picked: list, jurisdiction: str | None, fallback: bool,
            chunks: list[dict]) -> Answer:
    """The picked sentences quoted with their clauses (other places' documents labelled as such)."""
    lines, cites, head = [], [], 0
    if jurisdiction and jurisdiction != DEFAULT_REGION:
        lines.append(elsewhere_line(jurisdiction))
    elif fallback:
        lines.append("重庆的文件中没有找到直接规定。以下是其他地方文件的规定，仅供参考，不适用于重庆：")
    head = len(lines)
    outline = outline_of(picked[0][1].doc_id) if _BROAD.search(u.text) else None
    if outline:
        c = citation(picked[0][1].doc_id, "", outline)
        cites.append(c)
        lines.append(f"{c.title}共分以下部分：{outline}（{c.label()}）")
    for sentence, h in picked:
        c = citation(h.doc_id, h.section, sentence, title=doc_title(h.doc_id, h.title))
        cites.append(c)
        place = doc_jurisdiction(h.doc_id)
        tag = f"【{place}】" if fallback and place else ""
        lines.append(f"{tag}{sentence}（{c.label()}）")
    answer = Answer("\n".join(lines), cite_dicts(cites), [], escalate=False,
                    confidence=round(min(1.0, float(hits[0].score)), 3), intent=u.intent, chunks=chunks,
                    evidence=[h.text for h in hits])
    return finish(answer, short_lines(lines[:head] + _answering_first(u, lines[head:]), keep=head + 1))


def _answering_first(u: Understanding, lines: list[str]) -> list[str]:
    """The quoted lines for the first message: the best sentence first, unless the question asks an item (a date, a
    count) that only a later line states ("完成时限:2025年6月") — that line leads, so the first message answers."""
    asked = asked_slots(u.text)
    if not asked or not lines:
        return lines

    def holds(line: str) -> bool:
        return all(slot_in(s, statements(line), question=u.text) for s in asked)

    if holds(lines[0]):
        return lines
    first = next((x for x in lines[1:] if holds(x)), None)
    return lines if first is None else [first] + [x for x in lines if x != first]


def _doc_year(doc_id: str) -> str:
    """The year of a document's date ("2024"), which its clauses need not repeat."""
    from jixiao.bot.answer import doc_date

    return (doc_date(doc_id) or "")[:4]


def _att1_clause(section: str) -> tuple[str, str] | None:
    m = re.match(r"(?:附件\s*\d+\s*)?([一二三四五六七八九十]+)", section or "")
    return next((c for c in top_clauses(INCENTIVES_DOC) if m and c[0] == m.group(1)), None)


def document_number(u: Understanding) -> Answer | None:
    """"XX方案的文号": the document number from the source's front matter, cited as 发文."""
    doc = find_document(u.text)
    if doc is None or not doc.doc_number:
        return None
    c = citation(doc.doc_id, "发文", doc.doc_number)
    place = doc.jurisdiction or ""
    note = f"（{place}文件）" if place and place != DEFAULT_REGION else ""
    return Answer(f"{c.title}{note}的文号是{doc.doc_number}，{doc.issuer or ''}{doc.date or ''}印发。（{c.label()}）",
                  [dataclasses.asdict(c)], [], escalate=False, confidence=0.9, intent=u.intent)
