"""API keys and signed download links: generation, hashing, constant-time checks.

An API key is ``ak_<key_id>_<secret>``: ``key_id`` (12 hex digits) is public and finds the
row; ``secret`` is 32 random bytes, URL-safe base64. Only ``sha256(secret)`` is stored. A
fast hash is right here: the secret is high-entropy random, so there is nothing for a slow
password hash (bcrypt, scrypt) to protect against, and each request can afford to check it.

Downloads from a local-directory exports store are served by the API itself at a URL that
carries its expiry and an HMAC-SHA256 signature of (job, file, expiry) under the signing key.

A portal session is a random id (32 bytes, URL-safe base64) in a cookie; the warehouse keeps its
SHA-256. Its CSRF token is an HMAC of the session id under the signing key: one per session,
never stored, unforgeable without both, checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from analytics_pipeline.settings import Settings

KEY_PREFIX = "ak"
_KEY = re.compile(r"ak_([0-9a-f]{12})_([A-Za-z0-9_-]{43,128})", re.ASCII)
SIGNING_KEY_FILE = "api-signing-key"


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        """What the key's holder sends (``Authorization: Bearer <token>``): shown once, never stored."""
        return f"{KEY_PREFIX}_{self.key_id}_{self.secret}"


def generate_key() -> NewKey:
    return NewKey(secrets.token_hex(6), secrets.token_urlsafe(32))


def parse_key(token: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    match = _KEY.fullmatch(token)
    return (match[1], match[2]) if match else None


def secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def secret_matches(secret: str, stored_digest: bytes) -> bool:
    """Whether ``secret`` hashes to ``stored_digest``, compared in constant time."""
    return hmac.compare_digest(secret_digest(secret), bytes(stored_digest))


def sign_download(signing_key: bytes, job_id: uuid.UUID, filename: str, expires: int) -> str:
    """The hex HMAC-SHA256 of a download link's job, file name and expiry (unix seconds)."""
    message = f"analytics-export-download\n{job_id}\n{filename}\n{expires}".encode()
    return hmac.new(signing_key, message, hashlib.sha256).hexdigest()


def download_signature_valid(signing_key: bytes, job_id: uuid.UUID, filename: str, expires: int,
                             signature: str) -> bool:
    """Whether ``signature`` is the link's signature, compared in constant time."""
    expected = sign_download(signing_key, job_id, filename, expires)
    return hmac.compare_digest(expected.encode(), signature.encode("ascii", "replace"))


def signing_key(settings: Settings) -> bytes:
    """``ANALYTICS_API_SIGNING_KEY``, or else a random key made once and kept (mode 0600) in
    ``$ANALYTICS_HOME/api-signing-key``, so links stay valid across restarts."""
    if settings.api_signing_key:
        return settings.api_signing_key.encode()
    path = Path(settings.home) / SIGNING_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    text = path.read_text().strip()
    if len(text) < 32:
        raise RuntimeError(f"{path} holds no usable signing key: delete it (a new one is made) or set "
                           "ANALYTICS_API_SIGNING_KEY")
    return text.encode()


_SESSION = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)


def new_session_id() -> str:
    """A portal session's id: what its cookie holds (the warehouse stores only its digest)."""
    return secrets.token_urlsafe(32)


def well_formed_session_id(text: str | None) -> bool:
    return text is not None and _SESSION.fullmatch(text) is not None


def session_digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("ascii")).digest()


def csrf_token(signing_key: bytes, session_id: str) -> str:
    """The CSRF token of a portal session (the hidden field of its state-changing forms)."""
    return hmac.new(signing_key, f"analytics-portal-csrf\n{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_token_valid(signing_key: bytes, session_id: str, token: str | None) -> bool:
    """Whether ``token`` is the session's CSRF token, compared in constant time."""
    if not token:
        return False
    return hmac.compare_digest(csrf_token(signing_key, session_id).encode(), token.encode("ascii", "replace"))


def tokens_equal(left: str | None, right: str | None) -> bool:
    """Two tokens (the sign-in form's double submit) compared in constant time; a missing one never equals."""
    if not left or not right:
        return False
    return hmac.compare_digest(left.encode("ascii", "replace"), right.encode("ascii", "replace"))
