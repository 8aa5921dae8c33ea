"use strict";
(function () {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const next = new URLSearchParams(location.search).get("next");

  // Only a path on this site is followed after login: the browser's own URL parser decides (it reads
  // "/\\host", "/\t/host" or "/\n/host" as another site), and control characters are refused outright.
  function sameOrigin(target) {
    if (!target || !/^\/(?![\/\\])/.test(target) || /[\u0000-\u001f\u007f\\]/.test(target)) return "/";
    try {
      const url = new URL(target, location.origin);
      return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
    } catch (e) {
      return "/";
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const button = document.getElementById("login-submit");
    button.disabled = true;
    try {
      const res = await fetch("/api/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify({
          username: document.getElementById("username").value.trim(),
          password: document.getElementById("password").value,
        }),
      });
      if (res.ok) {
        location.href = sameOrigin(next);
        return;
      }
      const data = await res.json().catch(() => ({}));
      error.textContent = typeof data.detail === "string" ? data.detail : "登录失败，请重试。";
    } catch (e) {
      error.textContent = "无法连接服务器，请稍后重试。";
    } finally {
      button.disabled = false;
    }
    error.hidden = false;
  });
})();
