"""Validate a criteria pack as staff write it: every problem names the YAML line and the fix (in Chinese).

Used by `jixiao criteria check FILE` and the console's pack upload (`adapters/criteria_admin.py`).
Staff packs live in `<data_dir>/criteria/`; `activate` writes a validated pack there, where every
process picks it up on its next assessment turn (`pack.PackSource`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from jixiao.bot.assess.pack import Pack
from jixiao.knowledge.industries import _locate

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}\.yaml$")
README = "knowledge/criteria/README.md"
_FIX_BY_TYPE = {
    "extra_forbidden": "删除该字段，或改成允许的字段名（字段表见 " + README + "）",
    "missing": "补上这个必填字段（字段表见 " + README + "）",
    "bool_type": "填 true 或 false",
    "bool_parsing": "填 true 或 false",
    "float_parsing": "填数字，例如 60（表示 ≥60%）",
    "float_type": "填数字，例如 60（表示 ≥60%）",
    "less_than_equal": "百分比门槛在 0 到 100 之间",
    "greater_than_equal": "百分比门槛在 0 到 100 之间",
    "too_short": "至少写一项（例如至少一个工艺分类 variants、至少一条依据 basis）",
    "string_type": "填一段文字（含冒号等特殊字符时请用引号括起来）",
    "list_type": "写成列表，例如 [A, B, C, D] 或每行以“- ”开头",
    "dict_type": "写成“键: 值”的映射，例如 A: {text: …, must: true}",
    "literal_error": "kind 只能是 percent、yesno 或 choice",
}
_FIX_BY_TEXT = (
    ("industries.yaml", "用附件3中的行业名称（knowledge/tables/industries.yaml 的 name），或 \"*\" 表示全部39个行业"),
    ("unknown branches", "用该行业的分支名称（见错误信息中的 valid 列表），或留空 [] 表示全部分支"),
    ("unknown grade", "等级只能用错误信息中 valid 列出的写法，如 A、B、B-、C、D、绩效引领"),
    ("unknown family", "family 用错误信息中 valid 列出的指标族 id"),
    ("Keys should be strings", "不要用 yes/no/on/off 作键（YAML 会读成布尔值）：yes/no 题的要求写 must: true"),
    ("exactly one of", "每个等级要求只写一种判断：percent 题写 min，yesno 题写 must（不要用 yes 作键），choice 题写 one_of"),
    ("needs min", "percent 题的每个等级写 min: 数字"),
    ("needs must", "yesno 题的每个等级写 must: true 或 must: false"),
    ("needs one_of", "choice 题的每个等级写 one_of: [选项id, …]"),
    ("not among the options", "one_of 里只写 options 中已有的 id"),
    ("needs options", "choice 题写 options（每项 id 和 label）；其他题型删去 options"),
    ("without grades", "写 grades；或在等级归属未确认时写 kind: yesno 和 requirement（已知要求原文）"),
    ("not in pack grades", "把该等级加入文件顶部的 grades，或删去这条要求"),
    ("duplicate indicator id", "每个指标的 id 必须不同"),
    ("give seen_at", "basis 写 seen_at：在哪里看到的原文（文件未载入时必填）"),
    ("variant_question", "多个工艺分类时写 variant_question（让企业选择工艺的问题）"),
    ("needs a note", "没有 checks 的工艺分类写 note，说明为什么不按此项分级"),
    ("empty pack", "至少写 indicators 或 warnings 之一"),
    ("common pack", "industry 为 \"*\" 时删去 branches"),
)


@dataclass(frozen=True)
class Problem:
    line: int | None
    where: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"第{self.line}行" * bool(self.line) + f"（{self.where}）：{self.message}。修改方法：{self.fix}"


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    problems: tuple[Problem, ...]
    pack: Pack | None = None

    def summary(self) -> str:
        if self.ok and self.pack is not None:
            n = sum(len(v.checks) for i in self.pack.indicators for v in i.variants)
            return (f"校验通过：{self.pack.industry}，{len(self.pack.indicators)}个指标、{n}道判断题"
                    + ("，含预警措施" if self.pack.warnings else "") + "。")
        return f"校验未通过，共{len(self.problems)}处问题：\n" + "\n".join(f"- {p}" for p in self.problems)


def _fix(err: dict) -> str:
    msg = str(err.get("msg", ""))
    for needle, fix in _FIX_BY_TEXT:
        if needle in msg:
            return fix
    return _FIX_BY_TYPE.get(err["type"], "对照 " + README + " 的字段表和示例修改")


def check_text(text: str, name: str = "pack.yaml") -> CheckResult:
    """Validate pack text; problems sorted by line."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return CheckResult(False, (Problem(mark.line + 1 if mark else None, "YAML 语法", str(exc).splitlines()[0],
                                           "检查该行附近的缩进（用空格，不用 Tab）、冒号后的空格和括号是否配对"),))
    if not isinstance(data, dict):
        return CheckResult(False, (Problem(1, "文件", "内容不是“字段: 值”的映射",
                                           "参照 " + README + " 的示例，从 industry: 开始写"),))
    try:
        return CheckResult(True, (), Pack.model_validate(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            row = loc[:-1] if err["type"] in ("extra_forbidden", "missing") else loc
            where = _locate(Path(name), text, data, row)
            m = re.search(r", line (\d+)$", where)
            field = ".".join(map(str, loc)) or "(top level)"
            problems.append(Problem(int(m.group(1)) if m else None, field, str(err["msg"]).removeprefix("Value error, "),
                                    _fix(err)))
        return CheckResult(False, tuple(sorted(problems, key=lambda p: p.line or 0)))


def check_file(path: Path) -> CheckResult:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return CheckResult(False, (Problem(None, "文件", f"无法读取：{exc}", "确认路径正确、文件为 UTF-8 编码"),))
    return check_text(text, path.name)


def activate(text: str, name: str, data_criteria: Path) -> CheckResult:
    """Validate and, when valid, write the pack to `<data_dir>/criteria/<name>` (atomically)."""
    if not NAME.match(name):
        return CheckResult(False, (Problem(None, "文件名", f"文件名 {name!r} 不可用",
                                           "用小写字母、数字、- 或 _，以 .yaml 结尾，例如 zhuzao-paifang.yaml"),))
    result = check_text(text, name)
    if result.ok:
        data_criteria.mkdir(parents=True, exist_ok=True)
        tmp = data_criteria / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(data_criteria / name)
    return result


def deactivate(name: str, data_criteria: Path) -> bool:
    path = data_criteria / name
    if not NAME.match(name) or not path.is_file():
        return False
    path.unlink()
    return True
