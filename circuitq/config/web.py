"""web section: the household page and HTTP API (services/web, docs/web.md).

    web:
      host: 0.0.0.0          # the LAN; 127.0.0.1 behind a reverse proxy
      port: 8080
      session_days: 7        # a login lasts this long, then the page asks again
      # tls: {cert_file: /etc/circuitq/web.crt, key_file: /etc/circuitq/web.key}

Logins live in the secrets file (`web.users`: name -> password hash from
`python -m services.web hash-password`), never here.
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from .base import StrictModel

HASH_PREFIX = "scrypt$"
USER_NAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")


class WebTls(StrictModel):
    cert_file: Path
    key_file: Path


class WebConfig(StrictModel):
    host: str = Field("0.0.0.0", description="address to listen on")
    port: int = Field(8080, ge=1, le=65535)
    session_days: float = Field(7, gt=0, le=90, description="a login expires this long after it was made")
    secure_cookies: bool | None = Field(None, description="cookies only over HTTPS (default: when tls "
                                        "is set; set true behind a TLS reverse proxy)")
    tls: WebTls | None = None
    login_attempts: int = Field(5, ge=1, description="failed logins in a row before a pause")
    lockout_s: float = Field(60, gt=0, description="the pause after too many failed logins")
    confirm_s: float = Field(5, gt=0, le=60, description="an override waits this long for the "
                             "scheduler's new state before answering 'sent, not yet confirmed'")
    history_days: int = Field(60, ge=1, description="days listed in the history picker")

    @property
    def cookies_secure(self) -> bool:
        return self.tls is not None if self.secure_cookies is None else self.secure_cookies


class WebSecrets(StrictModel):
    """secrets file, `web:` section: who may log in to the page."""
    users: dict[str, str] = Field(default_factory=dict, description="login name -> password hash")

    @field_validator("users")
    @classmethod
    def _hashed(cls, v: dict[str, str]) -> dict[str, str]:
        for name, h in v.items():
            if not USER_NAME.match(name):
                raise ValueError(f"user name {name!r}: letters, digits, _ . @ - (at most 64)")
            if not isinstance(h, str) or not h.startswith(HASH_PREFIX) or h.count("$") != 5:
                raise ValueError(f"{name}: not a password hash (never a plain password); make one with "
                                 f"`python -m services.web hash-password`")
        return v
