"""`python -m services.ecobee_agent authorize [--config PATH]`: ecobee's PIN flow, once.

Prints a PIN, the user enters it at ecobee.com (My Apps -> Add Application), and we poll
/token no faster than the `interval` ecobee gives until it answers with tokens, which are
stored under cfg.state_dir (mode 600, written atomically). The running agent picks the new
file up by itself.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import requests

from circuitq.config import ConfigError, load_config, load_secrets
from circuitq.config.ecobee import EcobeeConfig

from .store import TOKENS_FILE, TokenStore, tokens_from_response

MAX_INTERVAL_S = 300


def pin_flow(cfg: EcobeeConfig, app_key: str, store: TokenStore, out=print, sleep=time.sleep,
             monotonic=time.monotonic) -> int:
    base = cfg.base_url
    try:
        r = requests.get(f"{base}/authorize", timeout=cfg.timeout_s, params={
            "response_type": "ecobeePin", "client_id": app_key, "scope": cfg.scope})
        d = r.json()
    except (requests.RequestException, ValueError) as exc:
        out(f"error: cannot reach {base}/authorize: {exc}")
        return 1
    if r.status_code != 200 or "ecobeePin" not in d:
        out(f"error: ecobee refused the PIN request: {d.get('error', r.status_code)} {d.get('error_description', '')}")
        return 1
    interval = max(1, int(d.get("interval", 30)))
    expires_min = float(d.get("expires_in", 9))  # minutes, per ecobee
    out(f"PIN: {d['ecobeePin']}")
    out(f"Enter it at https://www.ecobee.com -> My Apps -> Add Application within {expires_min:g} minutes.")
    out(f"Waiting (checking every {interval} s)...")
    deadline = monotonic() + expires_min * 60 + interval
    while monotonic() < deadline:
        sleep(interval)
        try:
            r = requests.post(f"{base}/token", timeout=cfg.timeout_s, params={
                "grant_type": "ecobeePin", "code": d["code"], "client_id": app_key})
            t = r.json()
        except (requests.RequestException, ValueError) as exc:
            out(f"  ({exc}; trying again)")
            continue
        if r.status_code == 200 and t.get("access_token"):
            store.save(tokens_from_response(t, time.time()))
            out(f"Authorized. Tokens stored in {store.path} (mode 600).")
            return 0
        error = t.get("error", f"HTTP {r.status_code}")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval = min(interval * 2, MAX_INTERVAL_S)
            out(f"  ecobee asks us to slow down; now checking every {interval} s")
            continue
        if error == "authorization_expired":
            out("error: the PIN expired before it was entered; run authorize again.")
            return 1
        out(f"error: ecobee refused: {error} {t.get('error_description', '')}".rstrip())
        return 1
    out("error: the PIN expired before it was entered; run authorize again.")
    return 1


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m services.ecobee_agent authorize",
                                 description="Authorize circuitq with ecobee (PIN flow).")
    ap.add_argument("--config", default=os.environ.get("CIRCUITQ_CONFIG"))
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config)
        secrets = load_secrets(cfg)
    except ConfigError as exc:
        print(f"ecobee_agent authorize: configuration error:\n{exc}", file=sys.stderr)
        return 2
    if secrets.ecobee is None:
        print(f"ecobee_agent authorize: {cfg.secrets_file}: ecobee.app_key is missing", file=sys.stderr)
        return 2
    store = TokenStore(cfg.state_dir / TOKENS_FILE)
    return pin_flow(cfg.ecobee or EcobeeConfig(), secrets.ecobee.app_key, store,
                    out=lambda s: print(s, flush=True))
