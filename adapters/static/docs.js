"use strict";
// Renders /openapi.json as a list of operations (method, path, summary, parameters, body fields, responses).
(function () {
  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function resolve(spec, schema) {
    let s = schema || {};
    for (let i = 0; s.$ref && i < 10; i++) {
      s = s.$ref.split("/").slice(1).reduce((o, k) => (o || {})[k], spec) || {};
    }
    return s;
  }

  function typeOf(spec, schema) {
    const s = resolve(spec, schema);
    if (s.anyOf) return s.anyOf.map((x) => typeOf(spec, x)).join(" | ");
    if (s.type === "array") return typeOf(spec, s.items) + "[]";
    return s.type || s.title || "object";
  }

  function fields(spec, schema) {
    const s = resolve(spec, schema);
    const required = new Set(s.required || []);
    return Object.entries(s.properties || {}).map(([name, p]) =>
      el("li", `${name}${required.has(name) ? "（必填）" : ""}：${typeOf(spec, p)}` +
        (resolve(spec, p).description || p.description ? " — " + (resolve(spec, p).description || p.description) : "")));
  }

  function operation(spec, path, method, op) {
    const box = el("section", undefined, "box");
    box.append(el("h3", `${method.toUpperCase()} ${path}`), el("p", op.summary || "", "muted"));
    if (op.description) box.append(el("pre", op.description, "answer"));
    const params = op.parameters || [];
    if (params.length) {
      const ul = el("ul", undefined, "small");
      params.forEach((p) => ul.append(el("li", `${p.name}（${p.in}${p.required ? "，必填" : ""}）：` +
        typeOf(spec, p.schema) + (p.description ? " — " + p.description : ""))));
      box.append(el("p", "参数"), ul);
    }
    const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (body) {
      const ul = el("ul", undefined, "small");
      ul.append(...fields(spec, body.schema));
      box.append(el("p", "请求体（JSON）"), ul);
    }
    const responses = Object.entries(op.responses || {}).map(([code, r]) => `${code} ${r.description || ""}`);
    if (responses.length) box.append(el("p", "响应：" + responses.join("；"), "small muted"));
    return box;
  }

  (async function start() {
    const res = await fetch("/openapi.json", { credentials: "same-origin" });
    if (res.status === 401) {
      location.href = "/login?next=/docs";
      return;
    }
    const spec = await res.json();
    document.getElementById("api-title").textContent = `${spec.info.title} ${spec.info.version}`;
    document.getElementById("api-description").textContent = spec.info.description || "";
    const root = document.getElementById("operations");
    for (const [path, ops] of Object.entries(spec.paths || {})) {
      for (const [method, op] of Object.entries(ops)) root.append(operation(spec, path, method, op));
    }
  })();
})();
