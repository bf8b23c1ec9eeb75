"""A real webhook receiver: ``http.server`` on a free loopback port, recording each POSTed JSON."""

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class RecordingWebhook:
    """What was posted (``posts``: the decoded JSON bodies) and how to answer: ``statuses`` are
    answered in order (then 200), each after ``delay`` seconds."""

    def __init__(self, url: str):
        self.url = url
        self.posts: list[dict] = []
        self.headers: list[dict] = []
        self.statuses: list[int] = []
        self.answers: list[int] = []  # the status each post was answered with, in order
        self.delay = 0.0
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        hook: RecordingWebhook = self.server.hook
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with hook.lock:
            hook.posts.append(json.loads(body))
            hook.headers.append(dict(self.headers))
            status = hook.statuses.pop(0) if hook.statuses else 200
            hook.answers.append(status)
        if hook.delay:
            time.sleep(hook.delay)
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@contextmanager
def recording_receiver(path: str):
    """A receiver on a free loopback port, answering POSTs to any path (``path`` names its URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.hook = RecordingWebhook(f"http://127.0.0.1:{server.server_address[1]}{path}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server.hook
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook():
    """A Slack-shaped incoming webhook."""
    with recording_receiver("/hooks/T000/B000/secret") as hook:
        yield hook


@pytest.fixture
def pagerduty():
    """A receiver shaped like PagerDuty's Events API v2 endpoint."""
    with recording_receiver("/v2/enqueue") as hook:
        yield hook
