"""The household page and HTTP API (docs/web.md).

    python -m services.web --config PATH                  serve the page on web.host:web.port
    python -m services.web hash-password [--user NAME]    a line for the secrets file's web.users
    python -m services.web token --config PATH --user NAME --name LABEL
                                                          an API token (Shortcuts, Tasker, curl)
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from circuitq.config import ConfigError, load_config


def hash_password(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.web hash-password")
    ap.add_argument("--user", default="household", help="the login name (default: household)")
    ap.add_argument("--stdin", action="store_true", help="read the password from standard input")
    a = ap.parse_args(argv)
    from .auth import hash_password as make
    if a.stdin:
        pw = sys.stdin.readline().rstrip("\n")
    else:
        pw = getpass.getpass(f"password for {a.user}: ")
        if pw != getpass.getpass("again: "):
            print("the two passwords differ", file=sys.stderr)
            return 2
    if len(pw) < 8:
        print("use at least 8 characters", file=sys.stderr)
        return 2
    print("# in the secrets file (chmod 600):\nweb:\n  users:\n"
          f"    {a.user}: \"{make(pw)}\"")
    return 0


def token(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.web token")
    ap.add_argument("--config", default=os.environ.get("CIRCUITQ_CONFIG"))
    ap.add_argument("--user", required=True, help="whose token: overrides made with it name this user")
    ap.add_argument("--name", required=True, help="what it is for, e.g. 'iPhone Shortcuts'")
    a = ap.parse_args(argv)
    from circuitq.clock import SystemClock
    from .server import open_tokens, web_users
    try:
        if not a.config:
            raise ConfigError("no config file given: pass --config PATH (or set CIRCUITQ_CONFIG)")
        cfg = load_config(a.config)
        users = web_users(cfg)
        if a.user not in users:
            raise ConfigError(f"{a.user}: not in web.users of {cfg.secrets_file}")
        tok = open_tokens(cfg).create(a.name, a.user, SystemClock().now())
    except ConfigError as exc:
        print(f"web token: {exc}", file=sys.stderr)
        return 2
    print(tok)
    print(f"(shown once; send it as 'Authorization: Bearer {tok[:8]}...'; revoke it on the page)",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hash-password"]:
        return hash_password(argv[1:])
    if argv[:1] == ["token"]:
        return token(argv[1:])
    from .server import serve
    return serve(argv)


if __name__ == "__main__":
    raise SystemExit(main())
