"use strict";
// Policy documents page (admins): upload → review what was found → confirm → indexing progress;
// mark documents superseded / removed. All text is inserted with textContent (never innerHTML).
(function () {
  const API = "/api/admin/documents";
  const { $, el, flash, csrfHeaders } = window.jixiaoPage;  // page.js
  const VERDICTS = { add: "新增", replace: "替换旧版本", skip: "重复，跳过" };
  const ORIGINS = { package: "内置", upload: "上传" };
  let staged = null; // the job waiting for confirmation

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = csrfHeaders(opts.headers);  // the session's anti-forgery token (adapters/csrf.py)
    const res = await fetch(API + path, opts);
    if (res.status === 401) {
      location.href = "/login?next=/console/documents";
      throw new Error("请先登录");
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(typeof data.detail === "string" ? data.detail : "操作失败，请重试。");
    return data;
  }

  function row(cells) {
    const tr = el("tr");
    cells.forEach((c) => { const td = el("td"); if (c instanceof Node) td.appendChild(c); else td.textContent = c; tr.appendChild(td); });
    return tr;
  }

  function showFound(job) {
    const body = $("found").querySelector("tbody");
    body.replaceChildren();
    const ins = job.inspection;
    ins.documents.forEach((d) => {
      const sections = d.sections.length ? d.sections.length + " 节：" + d.sections.slice(0, 4).join("、") + (d.sections.length > 4 ? "…" : "") : "—";
      body.appendChild(row([d.title + "（" + d.doc_id + "）", d.doc_number || "—", d.date || "—", d.jurisdiction || "—",
        sections, d.attachment || (d.parent ? "附件" : "—"), d.message || VERDICTS[d.verdict]]));
    });
    const notes = $("notes");
    notes.replaceChildren(...ins.notes.map((n) => el("li", n)));
    if (ins.writes === 0) notes.appendChild(el("li", "没有需要写入的新文件（全部重复）。"));
    $("review").hidden = false;
  }

  async function poll(jobId) {
    const job = await api("/jobs/" + jobId);
    const p = $("progress");
    p.hidden = false;
    p.textContent = job.state_text + (job.total ? "：嵌入 " + job.done + "/" + job.total : "") + (job.message ? "。" + job.message : "");
    if (job.state === "queued" || job.state === "indexing") setTimeout(() => poll(jobId), 800);
    else refresh();
  }

  async function refresh() {
    const data = await api("");
    $("limits").textContent = "支持 TXT、HTML、DOCX、PDF，单个文件不超过 " + data.max_upload_mb + " MB（PDF 须带文字，不支持扫描件和加密文件）。";
    const body = $("docs").querySelector("tbody");
    body.replaceChildren();
    data.documents.forEach((d) => {
      const select = el("select");
      [["active", "有效"], ["superseded", "已被替代"], ["removed", "移除"]].forEach(([v, t]) => {
        const o = el("option", t); o.value = v; o.selected = d.status === v; select.appendChild(o);
      });
      const by = el("input"); by.placeholder = "替代它的文件编号"; by.value = d.superseded_by || "";
      const save = el("button", "保存", "secondary"); save.type = "button";
      save.addEventListener("click", () => setStatus(d.doc_id, select.value, by.value));
      const box = el("div", null, "inline"); box.append(select, by, save);
      body.appendChild(row([d.doc_id, d.title, d.date || "—", d.jurisdiction || "—", ORIGINS[d.origin] || d.origin,
        d.status_text + (d.superseded_by ? "（" + d.superseded_by + "）" : ""), box]));
    });
  }

  async function setStatus(docId, status, by) {
    try {
      const job = await api("/" + encodeURIComponent(docId) + "/status", { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ status: status, superseded_by: by || null }) });
      flash("已更新 " + docId + " 的状态，正在更新索引。");
      poll(job.id);
    } catch (e) { flash(e.message, true); }
  }

  $("upload-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const file = $("file").files[0];
    if (!file) return;
    $("review").hidden = true;
    try {
      staged = await api("/uploads?filename=" + encodeURIComponent(file.name), { method: "POST", body: file });
      showFound(staged);
      flash("已识别 " + staged.inspection.documents.length + " 篇文件，请核对后确认。");
    } catch (e) { flash(e.message, true); }
  });

  $("confirm").addEventListener("click", async () => {
    if (!staged) return;
    try {
      const job = await api("/uploads/" + staged.id + "/confirm", { method: "POST" });
      $("review").hidden = true;
      staged = null;
      flash("已导入，正在建立索引。");
      poll(job.id);
    } catch (e) { flash(e.message, true); }
  });

  $("cancel").addEventListener("click", async () => {
    if (!staged) return;
    try { await api("/uploads/" + staged.id + "/cancel", { method: "POST" }); } catch (e) { flash(e.message, true); }
    staged = null;
    $("review").hidden = true;
  });

  refresh().catch((e) => flash(e.message, true));
})();
