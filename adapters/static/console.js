"use strict";
// Helpdesk console: queue, ticket detail, claim / answer / close / reopen, curated answers.
// All user-provided text is inserted with textContent (never innerHTML).
(function () {
  const API = "/api/helpdesk";
  const { $, el, csrfHeaders } = window.jixiaoPage;  // page.js
  const CHANNELS = { web: "网页", wechat: "微信" };
  const ACTIONS = { open: "创建工单", message: "用户追问", claim: "认领", answer: "答复", close: "关闭",
                    reopen: "重开", curated: "标准答复" };
  let me = null;
  let current = null; // the ticket shown in the detail pane

  function flash(message, isError) {
    const box = $("flash");
    box.textContent = message;
    box.className = isError ? "flash error" : "flash";
    box.hidden = false;
    clearTimeout(flash.timer);
    flash.timer = setTimeout(() => { box.hidden = true; }, 6000);
  }

  async function api(path, options) {
    const res = await fetch(API + path, Object.assign({ credentials: "same-origin",
      headers: csrfHeaders({ "Content-Type": "application/json" }) }, options || {}));
    if (res.status === 401) {
      location.href = "/login?next=/console";
      throw new Error("请先登录");
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const detail = typeof data.detail === "string" ? data.detail
        : Array.isArray(data.detail) ? "输入不符合要求：" + data.detail.map((d) => d.msg).join("；") : "操作失败，请重试。";
      throw new Error(detail);
    }
    return data;
  }

  function post(path, body) {
    return api(path, { method: "POST", body: JSON.stringify(body || {}) });
  }

  function when(ts) {
    if (!ts) return "—";
    const d = new Date(ts * 1000);
    const pad = (n) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} 秒`;
    if (s < 3600) return `${Math.floor(s / 60)} 分钟`;
    if (s < 86400) return `${Math.floor(s / 3600)} 小时 ${Math.floor((s % 3600) / 60)} 分钟`;
    return `${Math.floor(s / 86400)} 天 ${Math.floor((s % 86400) / 3600)} 小时`;
  }

  // ------------------------------------------------------------ queue

  async function loadQueue() {
    const params = new URLSearchParams();
    if ($("filter-state").value) params.set("state", $("filter-state").value);
    if ($("filter-mine").checked) params.set("mine", "true");
    let data;
    try {
      data = await api("/tickets?" + params.toString());
    } catch (e) {
      flash(e.message, true);
      return;
    }
    const labels = Object.fromEntries(data.states.map((s) => [s.state, s.label]));
    $("counts").textContent = data.states.map((s) => `${s.label} ${data.counts[s.state] || 0}`).join(" · ");
    const list = $("tickets");
    list.replaceChildren();
    for (const t of data.tickets) {
      const li = el("li");
      li.dataset.id = t.id;
      if (current && current.id === t.id) li.classList.add("active");
      const head = el("div");
      head.append(el("span", labels[t.state] || t.state, "badge " + t.state),
        el("strong", `#${t.id}`), el("span", ` ${CHANNELS[t.channel] || t.channel} · ${duration(t.age_seconds)}前`, "sub"));
      if (t.assignee) head.append(el("span", `处理人 ${t.assignee}`, "sub"));
      if (t.delivery_label) head.append(el("span", t.delivery_label, "delivery " + (t.delivery || "")));
      li.append(head);
      // every question of the ticket (the same question asked by several users, in their words)
      (t.questions || [t.question]).forEach((q) => li.append(el("p", q, "q")));
      if (t.asker_count > 1) li.append(el("p", `${t.asker_count} 位用户提出了这个问题`, "sub"));
      li.addEventListener("click", () => showTicket(t.id));
      list.append(li);
    }
    $("empty").hidden = data.tickets.length > 0;
  }

  // ------------------------------------------------------------ detail

  function citeLabel(c) {
    return `${c.title || c.doc_id}${c.section || ""}` + (c.quote ? `“${c.quote}”` : "");
  }

  async function showTicket(id) {
    let t;
    try {
      t = await api(`/tickets/${id}`);
    } catch (e) {
      flash(e.message, true);
      return;
    }
    current = t;
    for (const li of $("tickets").children) li.classList.toggle("active", Number(li.dataset.id) === id);
    $("detail").hidden = false;
    $("d-title").textContent = `工单 #${t.id} · ${t.state_label}`;
    $("d-meta").textContent = `${CHANNELS[t.channel] || t.channel}用户 ${t.user_id}` +
      (t.assignee ? ` · 处理人 ${t.assignee}` : "") + (t.reopen_count ? ` · 重开 ${t.reopen_count} 次` : "") +
      (t.pending_messages ? ` · ${t.pending_messages} 条消息待用户接收` : "");
    const clocks = $("d-clocks");
    clocks.replaceChildren();
    const rows = [["创建时间", when(t.created_at)], ["认领时间", when(t.claimed_at)],
      ["首次响应", t.first_response_at ? `${when(t.first_response_at)}（用时 ${duration(t.first_response_seconds)}）` : "尚未答复"],
      ["解决", t.closed_at ? `${when(t.closed_at)}（用时 ${duration(t.resolution_seconds)}）` : `未关闭，已 ${duration(t.age_seconds)}`]];
    if (t.delivery) rows.push(["送达", t.delivery_label || t.delivery]);
    for (const [k, v] of rows) clocks.append(el("dt", k), el("dd", v));

    const canClaim = t.state === "new" || t.state === "reopened";
    const mine = me && t.assignee === me.username;
    const canAnswer = (t.state === "assigned" && mine) || t.state === "reopened";
    $("act-claim").hidden = !canClaim;
    $("act-close").hidden = !(t.state === "answered" || t.state === "reopened");
    $("act-reopen").hidden = !(t.state === "answered" || t.state === "closed");
    $("act-propose").hidden = !t.answer;
    $("reopen-box").hidden = true;
    $("propose-box").hidden = true;

    $("d-question").textContent = t.question;
    $("d-askers").replaceChildren(...(t.askers || []).map((a) => el("li",
      `${CHANNELS[a.channel] || a.channel}用户 ${a.user_id}：${a.question}` +
      (a.delivery_label ? ` —— ${a.delivery_label}` : ""), a.delivery ? "delivery-" + a.delivery : "")));
    const route = t.evidence && t.evidence.route;  // the router's decision for the escalated turn (bot/route.py)
    $("d-route-box").hidden = !route;
    if (route) {
      const check = route.check && !route.check.ok ? `；未通过的检查：${route.check.check}（${(route.check.missing || []).join("、")}）` : "";
      $("d-route").textContent = `${route.reason || route.kind}（${route.id || ""}）${check}`;
    }
    const assessment = t.evidence && t.evidence.assessment;
    $("d-assessment-box").hidden = !assessment;
    if (assessment) {
      $("d-assessment").textContent = [`行业：${assessment.industry || "—"}`, `自评预估：${assessment.estimate_text || "—"}`,
        (assessment.short_boards || []).length ? `短板：${assessment.short_boards.join("；")}` : "",
        (assessment.bar_findings || []).length ? `否决项：${assessment.bar_findings.join("；")}` : ""]
        .filter(Boolean).join("\n");
    }
    if (t.delivery === "sending") {  // pushed in the background: show the outcome when it settles
      clearTimeout(showTicket.timer);
      showTicket.timer = setTimeout(() => { if (current && current.id === t.id) showTicket(t.id); }, 1500);
    }
    if (window.matchMedia("(max-width: 800px)").matches) $("detail").scrollIntoView({ block: "start" });
    $("answer-box").hidden = !canAnswer;
    $("answer-hint").textContent = t.state === "assigned" && !mine ? "" :
      "下框已填入助手的草稿，请核对、修改后发送；答复将通过用户所在渠道送达。";
    $("answer-text").value = t.draft || "";
    $("answer-count").textContent = String($("answer-text").value.length);
    const fs = $("answer-cites");
    for (const node of [...fs.querySelectorAll("label")]) node.remove();
    const cites = (t.evidence && t.evidence.citations) || [];
    cites.forEach((c, i) => {
      const box = el("input");
      box.type = "checkbox";
      box.checked = true;
      box.dataset.index = String(i);
      const label = el("label");
      label.append(box, document.createTextNode(" " + citeLabel(c)));
      fs.append(label);
    });
    fs.hidden = cites.length === 0;

    $("answered").hidden = !t.answer;
    $("d-answer").textContent = t.answer || "";
    $("d-answer-cites").replaceChildren(...(t.answer_citations || []).map((c) => el("li", citeLabel(c))));

    $("d-bot").textContent = `助手判断：${t.bot_intent || "—"}，置信度 ${Number(t.bot_confidence || 0).toFixed(2)}`;
    $("d-chunks").replaceChildren(...((t.evidence && t.evidence.chunks) || []).map((c) =>
      el("li", `${c.doc_id} ${c.section || ""}` + (c.score !== undefined ? `（相关度 ${Number(c.score).toFixed(2)}）` : ""))));
    $("d-history").replaceChildren(...(t.history || []).map((h) => {
      const li = el("li");
      li.append(el("div", `用户：${h.question}`), el("div", `助手：${h.answer || ""}`, "a"));
      return li;
    }));
    $("d-events").replaceChildren(...(t.events || []).map((e) =>
      el("li", `${when(e.at)} ${e.actor} ${ACTIONS[e.action] || e.action}` + (e.text ? `：${e.text}` : ""))));
  }

  async function act(fn, ok) {
    if (!current) return;
    const id = current.id;
    try {
      const result = await fn(id);
      flash(typeof ok === "function" ? ok(result) : ok);
    } catch (e) {
      flash(e.message, true);
    }
    await showTicket(id);
    await loadQueue();
  }

  $("act-claim").addEventListener("click", () => act((id) => post(`/tickets/${id}/claim`), "已认领。"));
  $("act-close").addEventListener("click", () => act((id) => post(`/tickets/${id}/close`), "工单已关闭。"));
  $("act-reopen").addEventListener("click", () => { $("reopen-box").hidden = false; $("reopen-note").focus(); });
  $("reopen-send").addEventListener("click", () => act((id) =>
    post(`/tickets/${id}/reopen`, { note: $("reopen-note").value.trim() }), "工单已重开。"));
  $("act-propose").addEventListener("click", () => {
    $("propose-box").hidden = false;
    $("propose-question").value = current ? current.question.slice(0, 500) : "";
  });
  $("propose-send").addEventListener("click", () => act((id) =>
    post(`/tickets/${id}/curated`, { question: $("propose-question").value.trim() || null }),
  "已提交标准答复，待管理员审核。"));
  $("answer-text").addEventListener("input", () => {
    $("answer-count").textContent = String($("answer-text").value.length);
  });
  $("act-answer").addEventListener("click", () => act((id) => {
    const all = (current.evidence && current.evidence.citations) || [];
    const picked = [...$("answer-cites").querySelectorAll("input:checked")].map((b) => all[Number(b.dataset.index)]);
    const citations = picked.map((c) => ({ doc_id: c.doc_id, title: c.title || "", section: c.section || "",
      quote: c.quote || "" }));
    return post(`/tickets/${id}/answer`, { text: $("answer-text").value.trim(), citations });
  }, (r) => r.message));

  // ------------------------------------------------------------ curated

  async function loadCurated() {
    const state = $("curated-state").value;
    let data;
    try {
      data = await api("/curated" + (state ? `?state=${state}` : ""));
    } catch (e) {
      flash(e.message, true);
      return;
    }
    $("curated").replaceChildren(...data.curated.map((c) => {
      const li = el("li");
      const head = el("div");
      head.append(el("span", c.state === "approved" ? "已通过" : "待审核", "badge " + (c.state === "approved" ? "answered" : "assigned")),
        el("strong", `#${c.id} ${c.question}`));
      li.append(head, el("p", c.text, "text"),
        el("p", (c.citations || []).map(citeLabel).join("；") || "（无引用）", "small muted"),
        el("p", `提议：${c.proposed_by} ${when(c.proposed_at)}` + (c.approved_by ? ` · 审核：${c.approved_by} ${when(c.approved_at)}` : "") +
          (c.ticket_id ? ` · 来自工单 #${c.ticket_id}` : ""), "small muted"));
      if (c.state === "proposed" && data.can_approve) {
        const button = el("button", "审核通过");
        button.type = "button";
        button.addEventListener("click", async () => {
          try {
            await post(`/curated/${c.id}/approve`);
            flash("已审核通过，助手将用它回答相同的问题。");
          } catch (e) {
            flash(e.message, true);
          }
          loadCurated();
        });
        li.append(button);
      }
      return li;
    }));
    if (!data.curated.length) $("curated").append(el("li", "暂无标准答复。", "muted"));
  }

  function tab(name) {
    $("view-tickets").hidden = name !== "tickets";
    $("view-curated").hidden = name !== "curated";
    $("tab-tickets").setAttribute("aria-pressed", String(name === "tickets"));
    $("tab-curated").setAttribute("aria-pressed", String(name === "curated"));
    if (name === "curated") loadCurated(); else loadQueue();
  }

  $("tab-tickets").addEventListener("click", () => tab("tickets"));
  $("tab-curated").addEventListener("click", () => tab("curated"));
  $("curated-state").addEventListener("change", loadCurated);
  $("filter-state").addEventListener("change", loadQueue);
  $("filter-mine").addEventListener("change", loadQueue);
  $("refresh").addEventListener("click", loadQueue);
  $("logout").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: csrfHeaders() }).catch(() => null);
    location.href = "/login?next=/console";
  });

  (async function start() {
    try {
      me = await api("/me");
      $("me").textContent = `${me.username}（${me.role === "admin" ? "管理员" : "工作人员"}）`;
    } catch (e) {
      return;
    }
    await loadQueue();
    setInterval(() => { if (!$("view-tickets").hidden) loadQueue(); }, 30000);
  })();
})();
