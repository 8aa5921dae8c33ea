"""A loopback OpenAI-compatible server: POST /v1/chat/completions with scripted replies.

Each scripted step is one of:
- {"content": "..."}                                  an assistant message
- {"tool_calls": [{"name": "...", "arguments": {...}}]} an assistant message calling tools
- {"status": 500}                                       an HTTP error (error mode)
- any of the above with "delay": seconds                 a slow reply (slow mode)
Requests are recorded (parsed JSON bodies) in `server.requests`.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, script: list[dict] | None = None, default: dict | None = None):
        """`default`: the step used once the script is exhausted (e.g. {"content": "…", "delay": 3})."""
        self.script = list(script or [])
        self.default = dict(default or {"content": ""})
        self.requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> dict:
        return self.script.pop(0) if self.script else dict(self.default)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                return None

            def do_POST(self) -> None:  # noqa: N802 — http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                fake.requests.append(body)
                step = fake._next()
                if step.get("delay"):
                    time.sleep(step["delay"])
                if step.get("status", 200) != 200:
                    self._send(step["status"], {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                self._send(200, _completion(body.get("model", "fake"), step))

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

        return Handler


def _completion(model: str, step: dict) -> dict:
    message: dict = {"role": "assistant", "content": step.get("content")}
    finish = "stop"
    if step.get("tool_calls"):
        message["content"] = None
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function",
             "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}), ensure_ascii=False)}}
            for i, c in enumerate(step["tool_calls"])]
        finish = "tool_calls"
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
