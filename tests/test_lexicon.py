"""The vocabulary as data (knowledge/lexicon/*.yaml): every file validates, every entry carries examples, and each
example is run through the mechanism that uses the entry: the positive must fire, the negative must not."""
from __future__ import annotations

from pathlib import Path

import pytest

from jixiao.bot import cues, dialogue
from jixiao.bot.entities import extract_grade, region_of
from jixiao.bot.intents import keyword_intent, measure_words
from jixiao.bot.passages import terms
from jixiao.bot.personal_flags import asks_fee, personal_flags
from jixiao.bot.scope import admin_topic, known_rule, threshold_subjects
from jixiao.bot.understand import expand, normalize, understand
from jixiao.knowledge.basis import quoted_rule
from jixiao.knowledge.lexicon import LexiconError, files, lexicon, read


def _n(text: str) -> str:
    return normalize(text)


def _cites(rule_id: str):
    quote = quoted_rule(rule_id).quote
    return lambda t: any(c.quote == quote for c in known_rule(understand(t))[1])


# Entries whose mechanism is a function of its own: the example goes through that function. Every other entry is
# read by `mentions` / a regex search / a whole-message comparison, which `Entry.fires` performs on the values the
# modules loaded (test_modules_hold_the_loaded_values checks they are the same).
MECHANISMS = {
    ("cues", "HUMAN"): lambda t: keyword_intent(_n(t), None, None) == "human",
    ("cues", "ASSESS"): lambda t: keyword_intent(_n(t), None, None) == "assess",
    ("cues", "REVIEW"): lambda t: keyword_intent(_n(t), "铸造", None) == "tool_review",
    ("cues", "INCENTIVES"): lambda t: keyword_intent(_n(t), None, None) == "tool_incentives",
    ("cues", "WHICH_INDUSTRY"): lambda t: keyword_intent(_n(t), "铸造", None) == "tool_industry",
    ("cues", "TIERS"): lambda t: keyword_intent(_n(t), None, None) == "tool_tiers",
    ("cues", "MEASURE.first_offence"): lambda t: "首违不罚" in measure_words(_n(t)),
    ("cues", "MEASURE.fewer_inspections"): lambda t: "执法检查" in measure_words(_n(t)),
    ("cues", "EXPANSIONS"): lambda t: expand(_n(t)) != _n(t),
    ("cues", "REWRITES"): lambda t: expand(_n(t)) != _n(t),
    ("cues", "HAODUO"): lambda t: "多少" in understand(t).text,
    **{("cues", f"PERSONAL.{flag}"): (lambda f: lambda t: f in personal_flags(_n(t)))(flag) for flag in cues.PERSONAL},
    ("regions", "REGIONS"): lambda t: region_of(_n(t)) != "重庆",
    ("regions", "REFERENCED.四川"): lambda t: region_of(_n(t)) == "重庆",
    ("scope", "SUBJECTS"): lambda t: bool(threshold_subjects(_n(t))),
    ("scope", "ADMIN_TOPICS"): lambda t: admin_topic(_n(t)) is not None,
    ("scope", "ADMIN_ASKS"): lambda t: admin_topic(_n(t)) is not None,
    ("scope", "KNOWN_RULE.tax"): _cites("tax-reduction"),
    ("scope", "KNOWN_RULE.subsidy"): _cites("subsidy-fund"),
    ("scope", "KNOWN_RULE.fee"): _cites("no-review-fee"),
    ("dialogue", "START_WORDS"): lambda t: dialogue.wants_assessment(t, understand("你好")),
    ("dialogue", "START_PHRASES"): lambda t: dialogue.wants_assessment(t, understand("你好")),
    ("cues", "GRADE_AFTER"): lambda t: extract_grade(_n(t)) is not None,
    ("cues", "GRADE_BEFORE"): lambda t: extract_grade(_n(t)) is not None,
    ("cues", "FEE_NOT"): lambda t: not asks_fee(_n(t)),
    ("stopwords", "STOP_WORDS"): lambda t: len(terms(t)) < len({t[i:i + 2] for i in range(len(t) - 1)}),
}


def _examples():
    for path in files():
        name = path.stem
        for key, entry in lexicon(name).items():
            for i, ex in enumerate(entry.examples):
                yield pytest.param(name, key, ex.positive, ex.negative, id=f"{name}.{key}[{i}]")


def test_every_lexicon_file_loads_and_has_entries():
    names = [p.stem for p in files()]
    assert {"cues", "regions", "followup", "scope", "dialogue", "stopwords"} <= set(names)
    assert sum(len(lexicon(n)) for n in names) >= 60


@pytest.mark.parametrize(("name", "key", "positive", "negative"), list(_examples()))
def test_example_fires_on_positive_not_on_negative(name, key, positive, negative):
    entry = lexicon(name)[key]
    assert entry.fires(positive), f"{name}.{key} does not catch its positive {positive!r}"
    assert not entry.fires(negative), f"{name}.{key} catches its negative {negative!r}"
    mechanism = MECHANISMS.get((name, key))
    if mechanism is not None:
        assert mechanism(positive), f"the mechanism using {name}.{key} does not fire on {positive!r}"
        assert not mechanism(negative), f"the mechanism using {name}.{key} fires on {negative!r}"


def test_mechanisms_name_existing_entries():
    for name, key in MECHANISMS:
        assert key in lexicon(name), f"{name}.{key}"


def test_modules_hold_the_loaded_values():
    from jixiao.bot import confidence, passages, review, scope, soundalike
    assert cues.HUMAN == lexicon("cues")["HUMAN"].words
    assert cues.FILLER.pattern == lexicon("followup")["FILLER"].pattern
    assert passages.GENERIC == set(lexicon("stopwords")["GENERIC"].words)
    assert confidence.QUESTION_WORDS == frozenset(lexicon("stopwords")["QUESTION_WORDS"].words)
    assert soundalike._GENERIC_SUFFIXES == lexicon("stopwords")["GENERIC_SUFFIXES"].words
    assert review._CQ_PLACES == lexicon("regions")["CHONGQING"].words
    assert dialogue.CONTINUE_WORDS == lexicon("dialogue")["CONTINUE_WORDS"].words
    assert [a for a, _ in scope._ADMIN_ASKS] == [k for k, _ in lexicon("scope")["ADMIN_ASKS"].pairs]


def test_continue_and_restart_words_are_whole_messages():
    for word in dialogue.CONTINUE_WORDS + dialogue.RESTART_WORDS:
        assert lexicon("dialogue")["CONTINUE_WORDS"].fires(word) or lexicon("dialogue")["RESTART_WORDS"].fires(word)
    assert not lexicon("dialogue")["CONTINUE_WORDS"].fires("继续教育有补贴吗")


@pytest.mark.parametrize(("text", "error"), [
    ("entries:\n  X: {words: [a], examples: [{positive: a, negative: b}], colour: red}\n", "colour"),
    ("entries:\n  X: {words: [a]}\n", "examples"),
    ("entries:\n  X: {words: [a], examples: []}\n", "examples"),
    ("entries:\n  X: {pattern: '(', match: search, examples: [{positive: a, negative: b}]}\n", "does not compile"),
    ("entries:\n  X: {words: [a], pattern: a, examples: [{positive: a, negative: b}]}\n", "exactly one"),
    ("entries:\n  X: {words: [a], examples: [{positive: a}]}\n", "negative"),
    ("entries: [\n", "while parsing"),
])
def test_bad_lexicon_files_are_refused_with_the_reason(tmp_path: Path, text, error):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError) as exc:
        read(path)
    assert str(path) in str(exc.value) and error in str(exc.value)


def test_every_personal_flag_has_a_reason_and_every_slot_a_name():
    from jixiao.bot.abstention import REASONS, SLOT_NAMES
    from jixiao.bot.answerability import load_lexicon
    assert set(cues.PERSONAL) == set(REASONS)
    assert set(load_lexicon().slots) == set(SLOT_NAMES)
    flagged = personal_flags(_n("今天名单发给我，密码忘了"))
    assert flagged and all(REASONS[f] for f in flagged)
