"""Ingestion on the real seed documents, plus the readers on small files written here."""
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jixiao.knowledge.basis import normalize
from jixiao.knowledge.ingest import ingest_file, ingest_paths, load_sources, write_sources
from jixiao.knowledge.ingest.cli import docs_app
from jixiao.knowledge.ingest.model import sha256
from jixiao.knowledge.ingest.readers import read_lines

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
SEED = {n: next(SEEDS.glob(f"{n}_*.txt"), None) for n in ("000", "001", "002", "003", "004")}
BOILERPLATE = ("登录注册", "扫一扫", "姓名:", "北极星", "华北电力大学", "索引号", "特别声明", "我要投稿")

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason="seed documents not available")


@pytest.fixture(scope="module")
def corpus():
    result = ingest_paths(sorted(p for p in SEED.values() if p))
    return result, {d.doc_id: d for d in result.docs}


def _table_rows(body: str, section: str) -> list[list[str]]:
    part = body.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in part.splitlines() if line.startswith("| ")]
    return [r for r in rows if r[0] != "序号" and not re.fullmatch(r"-+", r[0])]


def test_notice_has_sections_and_five_attachments(corpus):
    _, docs = corpus
    notice = docs["cq-cbza-2024"]
    for head in ("一、工作时段", "二、工作目标", "三、工作内容", "四、绩效评级范围和程序", "五、工作要求"):
        assert f"\n## {head}\n" in notice.body
    assert "\n### （二）绩效评级程序\n" in notice.body
    assert "\n#### 1.重点行业范围。按照生态环境部《技术指南》执行，共39个重点行业。\n" in notice.body
    for n in range(1, 6):
        att = docs[f"cq-cbza-2024-att{n}"]
        assert att.meta.parent == "cq-cbza-2024" and att.meta.kind == "attachment"
    assert "惠企措施" in docs["cq-cbza-2024-att1"].meta.title
    assert "十、年度考核激励" in docs["cq-cbza-2024-att1"].body
    assert "（另附）" in docs["cq-cbza-2024-att2"].body
    assert "## 二、其他说明" in docs["cq-cbza-2024-att4"].body
    assert "\n##### 2.13.1除尘设施" not in docs["cq-cbza-2024-att5"].body  # decimal outline is level 6
    assert "###### 2.13.1除尘设施" in docs["cq-cbza-2024-att5"].body


def test_attachment3_table_is_rebuilt(corpus):
    body = corpus[1]["cq-cbza-2024-att3"].body
    national = _table_rows(body, "一、国家行业标准39个重点行业")
    local = _table_rows(body, "二、地方行业标准10个行业")
    assert len({r[0] for r in national if r[0]}) == 39
    assert len({r[0] for r in local if r[0]}) == 10
    assert all(len(r) == 4 for r in national + local)
    assert ["1", "长流程联合钢铁", "长流程钢铁", "A / B（B-） / C / D"] in national
    assert ["", "长流程联合钢铁", "独立烧结、球团", "其他"] in national
    assert ["", "铁合金", "电解锰", "绩效引领 / 非绩效引领"] in national
    assert ["1", "金属表面处理及热处理加工", "金属表面处理及热处理加工", "地方A / 地方B / 地方C"] in local
    cells = {c for r in national + local for c in r}
    for joined in ("短流程钢铁", "人造板制造", "汽车整车制造工业", "岩矿棉制品深加工", "粉末涂料制造工业",
                   "粉末涂料家具制造", "三聚氰胺板式家具", "沥青混合料搅拌站"):
        assert joined in cells, joined
    assert "## 三、民生保障类" in body
    assert body.count("审核要求：") == 3


def test_no_boilerplate_in_any_source(corpus):
    result, _ = corpus
    written = load_sources(ROOT / "knowledge" / "sources")
    for doc in result.docs + written:
        for noise in BOILERPLATE:
            assert noise not in doc.body, (doc.doc_id, noise)


def test_attachments_keep_the_number_their_notice_gives_them():
    docs = ingest_file(SEED["001"])
    assert [(d.doc_id, d.meta.attachment) for d in docs] == [("cq-cbza-2024", "")] + [
        (f"cq-cbza-2024-att{n}", f"附件{n}") for n in range(1, 6)]


def test_seed_003_is_a_cover_notice_and_five_plans():
    docs = ingest_file(SEED["003"])
    assert [d.doc_id for d in docs] == ["cq-106-2024", "cq-digital-2024", "cq-chengyu-2024",
                                        "cq-autumn-winter-2024", "cq-eia-service-2024", "cq-mobile-source-2024"]
    titles = [d.meta.title for d in docs]
    assert titles[0].endswith("等5个方案的通知")
    assert titles[1:] == ["重庆市生态环境局实施生态环境治理数字化行动方案(2024—2025年)",
                          "2024年成渝地区生态环境联建联治行动工作方案",
                          "2024年重庆市秋冬季“治气”攻坚提升行动工作方案",
                          "重庆市实施环评服务“惠企便民”专项行动方案",
                          "2024年移动源大气污染综合治理行动工作方案"]
    cover = docs[0].meta
    assert (cover.doc_number, cover.date, cover.published) == ("渝环办〔2024〕106号", "2024-05-07", "2024-05-14")
    assert cover.audience == "public" and cover.disclosure == "依申请公开"
    assert all(d.meta.parent == "cq-106-2024" and d.meta.kind == "plan" for d in docs[1:])
    assert not any(d.meta.attachment for d in docs)            # issued plans, not attachments
    autumn = docs[3].body
    assert "| 序号 | 区县 | 优良天数目标 | PM2.5浓度目标 | 重污染天数 目标 | 序号 |" in autumn
    assert "| 1 | 万州区 | 116 | 36.0 | 0 | 17 | 南川区 | 107 | 41.0 | 0 |" in autumn
    assert "| 21 | 大足区 | 187 |  | 合计 | 15539 |" in autumn
    assert "| 第一组 | 渝中区、大渡口区、江北区、沙坪坝区、九龙坡区、南岸区、巴南区 |" in autumn


def test_seed_000_is_a_duplicate_of_001(corpus):
    result, docs = corpus
    assert (SEED["000"].name, SEED["001"].name) in result.skipped
    assert all(d.meta.source_file != SEED["000"].name for d in result.docs)
    assert docs["cq-cbza-2024"].meta.date == "2024-08-05"   # signature only in the incomplete copy
    assert docs["cq-cbza-2024-att3"].meta.date == "2024-08-05"


def test_metadata_of_other_seeds(corpus):
    _, docs = corpus
    assert docs["kaifeng-2020"].meta.date == "2020-03-17" and docs["kaifeng-2020"].meta.jurisdiction == "开封"
    liaocheng = docs["liaocheng-2020"].meta
    assert (liaocheng.doc_number, liaocheng.date, liaocheng.jurisdiction) == ("聊重指办〔2020〕6号", "2020-08-19", "聊城")
    for doc in docs.values():
        assert doc.meta.content_sha256 == sha256(doc.body)
        assert doc.meta.audience == "public"


def test_headings_are_clauses_not_prose(corpus):
    _, docs = corpus
    liaocheng = docs["liaocheng-2020"].body
    assert "\n2. 大气污染防治绩效评级申请表（编制大纲）" in liaocheng          # attachment list, not a heading
    assert not re.search(r"^#+ \d\. (大气|XX|聊城)", liaocheng, re.M)
    assert "\n#### 1. 县（市、区）重污染天气应急指挥部" in liaocheng            # heading keeps its full text
    kaifeng = docs["kaifeng-2020"].body
    assert "调整优化能源结构。7.严控煤炭消费总量。" in kaifeng                  # stays inside its paragraph
    assert "\n#### 8.实施煤炭减量替代。" in kaifeng
    assert "北极星售电网获悉" not in kaifeng


@pytest.mark.parametrize("seed,doc_ids,skip", [
    ("001", ["cq-cbza-2024"] + [f"cq-cbza-2024-att{n}" for n in range(1, 6)], r"^附件\d$"),
    ("003", ["cq-106-2024", "cq-digital-2024", "cq-chengyu-2024", "cq-autumn-winter-2024",
             "cq-eia-service-2024", "cq-mobile-source-2024"], r"^(\[ |— ?1 ?—)"),
    ("004", ["liaocheng-2020"], r"^$"),
])
def test_body_text_is_kept_verbatim(corpus, seed, doc_ids, skip):
    docs = {d.doc_id: d for d in ingest_file(SEED[seed])}
    text = normalize("".join(docs[i].body for i in doc_ids))
    for line in SEED[seed].read_text(encoding="utf-8").splitlines():
        if line.strip() and not re.match(skip, line.strip()):
            assert normalize(line) in text, line


def test_write_and_load_round_trip(corpus, tmp_path):
    result, _ = corpus
    write_sources(result.docs, tmp_path)
    loaded = {d.doc_id: d for d in load_sources(tmp_path)}
    assert set(loaded) == {d.doc_id for d in result.docs}
    for doc in result.docs:
        assert loaded[doc.doc_id].body == doc.body
        assert loaded[doc.doc_id].meta.date == doc.meta.date


def test_docs_add_detects_a_document_already_present(tmp_path):
    runner = CliRunner()
    first = runner.invoke(docs_app, ["add", str(SEED["001"]), "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "新增" in first.output and len(list(tmp_path.glob("*.md"))) == 6
    again = runner.invoke(docs_app, ["add", str(SEED["001"]), "--out", str(tmp_path)])
    assert again.output.count("已存在") == 6 and "写入 0 篇" in again.output
    older = runner.invoke(docs_app, ["add", str(SEED["000"]), "--out", str(tmp_path)])
    assert "写入 0 篇" in older.output
    listed = runner.invoke(docs_app, ["list", "--json", "--dir", str(tmp_path)])
    assert "cq-cbza-2024-att3" in listed.output


def test_docs_add_reports_a_missing_file_in_chinese(tmp_path):
    out = CliRunner().invoke(docs_app, ["add", str(tmp_path / "nope.txt"), "--out", str(tmp_path)])
    assert out.exit_code == 2 and "找不到文件" in out.output


# ---- readers on small files ----------------------------------------------------------------

def test_docx_reader(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("某市重污染天气应对实施方案")
    document.add_paragraph("一、工作目标")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "序号", "行业"
    table.cell(1, 0).text, table.cell(1, 1).text = "1", "铸造"
    path = tmp_path / "plan.docx"
    document.save(path)
    lines = read_lines(path)
    assert "一、工作目标" in lines and "铸造 |" in lines
    body = ingest_file(path)[0].body
    assert "## 一、工作目标" in body and "| 1 | 铸造 |" in body


def test_html_reader_drops_navigation_and_scripts(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><body><nav>首页 登录注册</nav><script>var x=1;</script>"
                    "<h1>某市绩效分级实施方案</h1><p>一、适用范围</p><p>本方案适用于全市。</p>"
                    "<footer>版权所有</footer></body></html>", encoding="utf-8")
    lines = [line for line in read_lines(path) if line]
    assert lines == ["某市绩效分级实施方案", "一、适用范围", "本方案适用于全市。"]


def _tiny_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def test_pdf_reader(tmp_path):
    path = tmp_path / "tiny.pdf"
    path.write_bytes(_tiny_pdf("Performance rating notice 2024"))
    assert any("Performance rating notice 2024" in line for line in read_lines(path))
