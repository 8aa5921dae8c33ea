"""Held-out and calibration questions measure the assistant; they never become test inputs or lexicon examples.

A turn of `eval/golden/*holdout*.yaml`, `eval/golden/oos*.yaml` or `eval/golden/calibration.yaml` found verbatim
(white space removed) in any file under tests/, or as an example of knowledge/lexicon/*.yaml, means the set is being
tuned on. Rules are tested with their lexicon examples, not with golden questions.

Turns of at most COMMAND_CHARS characters (punctuation aside) are exempt: "转人工" is the product's own command and
"C级呢" a bare ellipsis; every test of those features must type them, and they carry no content to tune on.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "eval" / "golden"
HELD_OUT = ("*holdout*.yaml", "oos*.yaml", "calibration.yaml")
COMMAND_CHARS = 3


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def held_out_files(golden: Path = GOLDEN) -> list[Path]:
    return sorted({p for pattern in HELD_OUT for p in golden.glob(pattern)})


def _turns(node):
    """Every question of a golden file: `turns` lists and `question` strings, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "turns" and isinstance(value, list):
                yield from (t for t in value if isinstance(t, str))
            elif key == "question" and isinstance(value, str):
                yield value
            else:
                yield from _turns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _turns(value)


def held_out_questions(golden: Path = GOLDEN) -> dict[str, str]:
    """Squeezed question → the file it comes from."""
    out: dict[str, str] = {}
    for path in held_out_files(golden):
        for q in _turns(yaml.safe_load(path.read_text(encoding="utf-8"))):
            if len(re.sub(r"[\W_]+", "", q)) > COMMAND_CHARS:
                out.setdefault(_squeeze(q), path.name)
    return out


def leaks(files, questions: dict[str, str]) -> list[str]:
    found = []
    for path in files:
        try:
            text = _squeeze(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
        found += [f"{path}: {q!r} ({src})" for q, src in questions.items() if q in text]
    return found


def _examples(node):
    """Every example of a lexicon file, at any depth (entries, slots, stopwords)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "examples" and isinstance(value, list):
                yield from (ex for ex in value if isinstance(ex, dict))
            else:
                yield from _examples(value)
    elif isinstance(node, list):
        for value in node:
            yield from _examples(value)


def test_held_out_sets_are_found():
    names = {p.name for p in held_out_files()}
    assert {"answers_holdout.yaml", "retrieval_holdout.yaml", "calibration.yaml"} <= names
    assert len(held_out_questions()) > 300


def test_no_held_out_question_in_tests():
    files = [p for p in (ROOT / "tests").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    found = leaks(files, held_out_questions())
    assert not found, "held-out questions used in tests (rewrite the input):\n" + "\n".join(found)


def test_no_held_out_question_as_lexicon_example():
    questions = held_out_questions()
    found = []
    for path in sorted((ROOT / "knowledge" / "lexicon").glob("*.yaml")):
        for ex in _examples(yaml.safe_load(path.read_text(encoding="utf-8"))):
            found += [f"{path.name}: {v!r}" for v in ex.values() if isinstance(v, str) and _squeeze(v) in questions]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", ["answers_holdout9.yaml", "oos.yaml", "retrieval_holdout_x.yaml"])
def test_a_new_held_out_set_is_guarded_too(tmp_path: Path, name):
    (tmp_path / name).write_text("- {id: x1, turns: ['铸造厂 评几级', '那 D级呢']}\n- {id: x2, question: 环评要多久}\n",
                                 encoding="utf-8")
    (tmp_path / "answers.yaml").write_text("- {id: d1, turns: ['开发集问题']}\n", encoding="utf-8")
    questions = held_out_questions(tmp_path)
    assert set(questions) == {"铸造厂评几级", "那D级呢", "环评要多久"}
    victim = tmp_path / "test_x.py"
    victim.write_text('ASK = "铸造厂评几级"\nOK = "开发集问题"\n', encoding="utf-8")
    assert leaks([victim], questions) == [f"{victim}: '铸造厂评几级' ({name})"]
