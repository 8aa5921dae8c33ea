"use strict";
// Criteria packs page: list packs in force, upload a pack, show its validation, activate or deactivate.
// All text from the server or the file is inserted with textContent (never innerHTML).
(function () {
  const { $, el, flash, csrfHeaders } = window.jixiaoPage;  // page.js
  let checked = null; // the text that passed the last check

  async function api(path, body) {
    const res = await fetch("/api/criteria" + path, { method: body ? "POST" : "GET", credentials: "same-origin",
      headers: csrfHeaders({ "Content-Type": "application/json" }), body: body ? JSON.stringify(body) : undefined });
    if (res.status === 401) { location.href = "/login?next=/console/criteria"; throw new Error("请先登录"); }
    const data = await res.json().catch(() => ({}));
    if (!res.ok && !(data.detail && data.detail.problems)) {
      throw new Error(typeof data.detail === "string" ? data.detail : "操作失败，请重试。");
    }
    return res.ok ? data : data.detail;
  }

  function showResult(data) {
    $("result").textContent = data.summary;
    const list = $("problems");
    list.replaceChildren();
    for (const p of data.problems || []) {
      const item = el("li");
      item.append(el("strong", p.line ? "第" + p.line + "行 " : ""), el("code", p.where), el("span", "：" + p.message));
      item.append(el("div", "修改方法：" + p.fix, "sub"));
      list.append(item);
    }
  }

  async function loadPacks() {
    const data = await api("/packs");
    const list = $("packs");
    list.replaceChildren();
    for (const p of data.packs) {
      const item = el("li");
      item.append(el("strong", p.name), el("span", "　" + (p.industry === "*" ? "全部39个行业（通用）" : p.industry)
        + (p.branches.length ? "·" + p.branches.join("、") : "") + "　" + (p.origin === "staff" ? "管理员启用" : "内置")));
      item.append(el("div", "指标：" + (p.indicators.join("、") || "无") + (p.warnings ? "；含预警减排措施" : ""), "sub"));
      item.append(el("div", "来源：" + p.source, "sub"));
      if (p.origin === "staff") {
        const off = el("button", "停用", "secondary");
        off.type = "button";
        off.addEventListener("click", async () => {
          try { await api("/deactivate", { name: p.name }); flash("已停用 " + p.name); loadPacks(); }
          catch (e) { flash(e.message, true); }
        });
        item.append(off);
      }
      list.append(item);
    }
    $("skipped").textContent = data.skipped.length ? "未能加载（校验未通过）：" + data.skipped.join("、") : "";
  }

  $("file").addEventListener("change", async () => {
    const f = $("file").files[0];
    if (!f) return;
    $("text").value = await f.text();
    if (!$("name").value) $("name").value = f.name.toLowerCase().replace(/\.yml$/, ".yaml");
    checked = null;
    $("activate").disabled = true;
  });
  $("text").addEventListener("input", () => { checked = null; $("activate").disabled = true; });

  $("check").addEventListener("click", async () => {
    try {
      const data = await api("/check", { name: $("name").value || "pack.yaml", text: $("text").value });
      showResult(data);
      checked = data.ok ? $("text").value : null;
      $("activate").disabled = !data.ok;
    } catch (e) { flash(e.message, true); }
  });

  $("activate").addEventListener("click", async () => {
    if (checked === null) return;
    try {
      const data = await api("/activate", { name: $("name").value, text: checked });
      showResult(data);
      if (data.ok) { flash("已启用 " + $("name").value); loadPacks(); }
    } catch (e) { flash(e.message, true); }
  });

  loadPacks().catch((e) => flash(e.message, true));
})();
