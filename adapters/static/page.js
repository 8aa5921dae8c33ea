"use strict";
// What the staff pages (helpdesk console, criteria packs, policy documents) share: element lookup and creation with textContent only,
// the flash message, and the session's anti-forgery token (adapters/csrf.py) on every state-changing request.
window.jixiaoPage = (function () {
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function flash(message, isError) {
    const box = $("flash");
    box.textContent = message;
    box.className = isError ? "flash error" : "flash";
    box.hidden = false;
  }

  function csrfHeaders(headers) {
    const m = document.cookie.match(/(?:^|;\s*)jixiao_csrf=([^;]+)/);
    return Object.assign({}, headers || {}, m ? { "X-CSRF-Token": decodeURIComponent(m[1]) } : {});
  }

  return { $, el, flash, csrfHeaders };
})();
