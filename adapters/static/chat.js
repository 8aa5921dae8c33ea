"use strict";
// Web chat for bureau staff: POST /api/chat, citations expandable via GET /api/clause,
// helpdesk answers polled from GET /api/inbox (marked read by POST /api/inbox/read). All text is inserted with textContent (no HTML).
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const POLL_MS = 3000;
  const OPTION = /^\s*(\d{1,2})[.、．]\s*(.+)$/;
  const HINT = /^\s*（可回复：(.+)）\s*$/;
  let username = "";

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function csrfHeaders(headers) {
    const m = document.cookie.match(/(?:^|;\s*)jixiao_csrf=([^;]+)/);
    return Object.assign({}, headers || {}, m ? { "X-CSRF-Token": decodeURIComponent(m[1]) } : {});
  }

  async function api(path, options) {
    const opts = Object.assign({ credentials: "same-origin" }, options || {});
    opts.headers = csrfHeaders(opts.headers);
    const res = await fetch(path, opts);
    if (res.status === 401) {
      location.href = "/login";
      throw new Error("请先登录");
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new Error(typeof data.detail === "string" ? data.detail : "请求失败（" + res.status + "）");
    }
    return data;
  }

  function addUser(text) {
    const row = el("div", "msg user");
    row.appendChild(el("div", "bubble", text));
    log.appendChild(row);
    scrollDown();
  }

  function addNote(text, cls) {
    const row = el("div", "msg note " + (cls || ""));
    row.appendChild(el("div", "bubble", text));
    log.appendChild(row);
    scrollDown();
    return row;
  }

  // Numbered lines of a self-assessment question become buttons that send the number.
  function isChoice(reply) {
    return /可回复/.test(reply.answer) || /^assess/.test(reply.intent || "");
  }

  function renderText(bubble, reply) {
    // the "依据：…" line repeats the citations shown below the answer in full;
    // with a full text (reply.detail) the "回复“详细”" line becomes the 展开全文 expander
    const cited = reply.citations && reply.citations.length;
    const lines = reply.answer.split("\n").filter((line) => !(cited && line.startsWith("依据："))
      && !(reply.detail && line.startsWith("回复“详细”")));
    const choice = isChoice(reply);
    let options = null;
    for (const line of lines) {
      const m = choice ? OPTION.exec(line) : null;
      if (m) {
        if (!options) {
          options = el("div", "options");
          bubble.appendChild(options);
        }
        const button = el("button", "option", m[1] + ". " + m[2]);
        button.type = "button";
        button.dataset.value = m[1];
        button.addEventListener("click", () => send(m[1]));
        options.appendChild(button);
      } else if (choice && HINT.test(line)) {
        // "（可回复：返回 / 跳过 / 重新开始 / 退出）" → quick replies
        const chips = el("div", "chips");
        HINT.exec(line)[1].split("/").map((x) => x.trim()).filter(Boolean).forEach((word) => {
          const chip = el("button", "chip", word);
          chip.type = "button";
          chip.addEventListener("click", () => send(word));
          chips.appendChild(chip);
        });
        bubble.appendChild(chips);
        options = null;
      } else {
        options = null;
        bubble.appendChild(el("p", "line", line));
      }
    }
    if (reply.detail) {
      const more = el("details", "detail");
      more.appendChild(el("summary", "", "展开全文"));
      reply.detail.split("\n").filter((line) => !(cited && line.startsWith("依据：")))
        .forEach((line) => more.appendChild(el("p", "line", line)));
      bubble.appendChild(more);
    }
  }

  // Citations of one clause (same document and section) are shown once, with all their quotes.
  function groupCitations(citations) {
    const groups = new Map();
    citations.forEach((c) => {
      const key = c.doc_id + "|" + c.section;
      if (!groups.has(key)) groups.set(key, { doc_id: c.doc_id, section: c.section, label: c.label, quotes: [] });
      if (c.quote) groups.get(key).quotes.push(c.quote);
    });
    return Array.from(groups.values());
  }

  // Clause text: Markdown table lines become a table, everything else stays plain text.
  function renderClauseText(text) {
    const box = el("div", "clause-body");
    let table = null;
    text.split("\n").forEach((line) => {
      if (!line.trim().startsWith("|")) {
        table = null;
        box.appendChild(el("p", "line", line));
        return;
      }
      const cells = line.trim().replace(/^\||\|$/g, "").split("|").map((x) => x.trim());
      if (cells.every((x) => /^:?-{3,}:?$/.test(x))) return;
      const head = !table;
      if (!table) {
        table = el("table", "clause-table");
        box.appendChild(table);
      }
      const row = el("tr");
      cells.forEach((x) => row.appendChild(el(head ? "th" : "td", "", x)));
      table.appendChild(row);
    });
    return box;
  }

  function renderCitation(c) {
    const item = el("details", "citation");
    item.dataset.docId = c.doc_id;
    item.appendChild(el("summary", "", c.label));
    const body = el("div", "clause");
    c.quotes.forEach((q) => body.appendChild(el("blockquote", "quote", "“" + q + "”")));
    const full = el("div", "clause-text", "");
    body.appendChild(full);
    item.appendChild(body);
    item.addEventListener("toggle", async () => {
      if (!item.open || item.dataset.loaded) return;
      item.dataset.loaded = "1";
      full.textContent = "正在载入条款原文……";
      const q = new URLSearchParams({ doc_id: c.doc_id, section: c.section || "", quote: c.quotes[0] || "" });
      try {
        const clause = await api("/api/clause?" + q.toString());
        full.textContent = "";
        full.appendChild(el("div", "clause-head", "原文：" + clause.short_title + " " + (clause.heading || c.section)
          + (clause.date ? "（" + clause.date + "）" : "")));
        full.appendChild(renderClauseText(clause.text));
      } catch (e) {
        full.textContent = e.message;
        delete item.dataset.loaded;
      }
    });
    return item;
  }

  function addBot(reply) {
    const row = el("div", "msg bot");
    const bubble = el("div", "bubble");
    renderText(bubble, reply);
    if (reply.citations && reply.citations.length) {
      const cites = el("div", "citations");
      cites.appendChild(el("div", "cites-title", "出处（点开查看原文）"));
      groupCitations(reply.citations).forEach((c) => cites.appendChild(renderCitation(c)));
      bubble.appendChild(cites);
    }
    if (reply.ticket_id) {
      bubble.appendChild(el("div", "ticket",
        "已转服务台人工处理，工单号 #" + reply.ticket_id + "。答复会显示在本页。"));
    } else if (reply.escalate) {
      bubble.appendChild(el("div", "ticket hint", "如需人工答复，请点击“转人工”。"));
    }
    row.appendChild(bubble);
    log.appendChild(row);
    scrollDown();
  }

  function addHelpdesk(text) {
    const row = el("div", "msg helpdesk");
    const bubble = el("div", "bubble");
    bubble.appendChild(el("div", "from", "服务台答复"));
    text.split("\n").forEach((line) => bubble.appendChild(el("p", "line", line)));
    row.appendChild(bubble);
    log.appendChild(row);
    scrollDown();
  }

  async function send(text) {
    text = (text || "").trim();
    if (!text) return;
    addUser(text);
    sendButton.disabled = true;
    const waiting = addNote("正在查询……", "waiting");
    try {
      const reply = await api("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: text }),
      });
      waiting.remove();
      addBot(reply);
    } catch (e) {
      waiting.remove();
      addNote(e.message, "error");
    } finally {
      sendButton.disabled = false;
      input.focus();
    }
  }

  // helpdesk answers live on the server with the conversation: /api/inbox lists the unread ones (a GET
  // changes nothing), the page marks what it has shown as read, /api/history shows them on every device
  const shown = new Set();

  function showStaff(messages) {
    const fresh = messages.filter((m) => !shown.has(m.id));
    fresh.forEach((m) => { shown.add(m.id); addHelpdesk(m.text); });
    return fresh;
  }

  async function markRead(ids) {
    if (!ids.length) return;
    await api("/api/inbox/read", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ids: ids }),
    });
  }

  async function poll() {
    try {
      const data = await api("/api/inbox");
      await markRead(showStaff(data.items || []).map((m) => m.id));
    } catch (e) { /* retried on the next tick */ }
    setTimeout(poll, POLL_MS);
  }

  async function restore() {
    try {
      const data = await api("/api/history");
      const events = data.turns.map((t) => ({ at: t.at || 0, turn: t }))
        .concat((data.staff || []).map((m) => ({ at: m.at, staff: m })));
      events.sort((a, b) => a.at - b.at);
      events.forEach((e) => {
        if (e.staff) {
          showStaff([e.staff]);
          return;
        }
        addUser(e.turn.question);
        if (e.turn.reply) addBot(e.turn.reply);
      });
      await markRead((data.staff || []).filter((m) => !m.read).map((m) => m.id));
    } catch (e) { /* an empty page is fine */ }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.getElementById("escalate").addEventListener("click", () => send("转人工"));
  document.getElementById("logout").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: csrfHeaders() });
    location.href = "/login";
  });

  (async function start() {
    const me = await api("/api/me");
    username = me.username;
    document.getElementById("me").textContent = me.username + (me.role === "admin" ? "（管理员）" : "");
    await restore();
    poll();
    input.focus();
  })();
})();
