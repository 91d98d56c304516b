"""Delivery channels: Prowl (direct, see prowl.py) and one per apprise URL from the secrets.

A channel's `id` is stable and secret-free (the outbox file names it; an apprise URL holds
tokens, so its id is a hash); `label` is what logs show. `send()` runs on a worker thread.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import tzinfo

import requests

from circuitq.config.notifier import ProwlConfig
from circuitq.config.secrets import ProwlSecrets
from circuitq.payloads import Alert

from . import prowl
from .prowl import Result

log = logging.getLogger(__name__)
logging.getLogger("apprise").setLevel(logging.WARNING)  # it logs every send at INFO; we log results
# apprise (~5 MiB of plugins) is imported only when an apprise URL is configured.


class ProwlChannel:
    id = "prowl"

    def __init__(self, cfg: ProwlConfig, secrets: ProwlSecrets, tz: tzinfo):
        self.cfg, self.secrets, self.tz = cfg, secrets, tz
        self.url = prowl.add_url(cfg.host)
        self.label = f"Prowl ({self.url})"
        self.session = requests.Session()

    def send(self, alert: Alert) -> Result:
        when = alert.ts.astimezone(self.tz).strftime("%Y-%m-%d %H:%M %Z")
        data = prowl.form(alert, self.secrets.api_key, self.cfg.application, when,
                          self.secrets.provider_key)
        return prowl.send(self.session, self.url, data, self.cfg.timeout_s)


# Prowl-like priority -> apprise message type (icons/colours on the services that show them).
APPRISE_TYPES = {-2: "info", -1: "info", 0: "info", 1: "warning", 2: "failure"}


class AppriseChannel:
    def __init__(self, url: str, tz: tzinfo):
        import apprise

        self.tz, self.lib = tz, apprise
        self.id = "apprise:" + hashlib.sha256(url.encode()).hexdigest()[:10]
        self.apprise = apprise.Apprise()
        self.valid = self.apprise.add(url)
        # privacy=True hides tokens and passwords in what we log
        self.label = (f"apprise {self.apprise[0].url(privacy=True).split('?', 1)[0]}" if self.valid
                      else f"{url.split('://', 1)[0]}://…")

    def send(self, alert: Alert) -> Result:
        title = ("Resolved: " if alert.resolved else "") + alert.title
        when = alert.ts.astimezone(self.tz).strftime("%H:%M")
        kinds = self.lib.NotifyType
        kind = kinds.SUCCESS if alert.resolved else kinds(APPRISE_TYPES[alert.priority])
        try:
            result = self.apprise.notify(body=f"{alert.message} ({alert.source}, {when})", title=title,
                                         notify_type=kind)
        except Exception as exc:  # a plugin bug must not kill the worker
            return Result("retry", f"{self.label}: {type(exc).__name__}: {exc}")
        if result:
            return Result("ok")
        logs = [e.message for e in result.logs()] if hasattr(result, "logs") else []
        return Result("retry", f"{self.label}: {logs[-1] if logs else 'delivery failed'}")


def build(prowl_cfg: ProwlConfig, prowl_secrets: ProwlSecrets | None, urls: list[str], tz: tzinfo):
    """(channels by id, problems to report). An unparsable apprise URL is reported, not fatal."""
    channels, problems = {}, []
    if prowl_secrets is not None:
        channels["prowl"] = ProwlChannel(prowl_cfg, prowl_secrets, tz)
    for n, url in enumerate(urls):
        ch = AppriseChannel(url, tz)
        if ch.valid:
            channels[ch.id] = ch
        else:
            problems.append(f"secrets apprise_urls[{n}]: apprise cannot use {ch.label} (check the URL)")
    return channels, problems

