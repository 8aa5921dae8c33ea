"use strict";
(function () {
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  const next = new URLSearchParams(location.search).get("next");

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
        // only same-site paths are followed after login
        location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
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
