"""Where a cloud or LAN API lives: a config may change only the host (dreadpi's security rule).

Every client hard-codes its URL path prefix. The config may swap only the host: a staging host,
or the local fake server that the tests and `make demo` start on 127.0.0.1:PORT. So:
- accepted: `host`, `host:port`, `[v6]:port`, `scheme://host[:port]`; no path, query or user;
- no scheme given: http for a loopback host (the fakes speak plain http), https otherwise;
- plain http and a custom port only for a loopback host, unless `lan=True` (the Envoy sits on
  the LAN; old firmware speaks plain http); `any_port=True` allows an https port on any host
  (Curb, ecobee and Prowl have always accepted a staging host with a port).
The result is normalized to `scheme://host[:port]`, so the clients only append their paths.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

_HOST_RX = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _host_of(text: str) -> str:
    """The host part of `host`, `host:port`, `[v6]:port`, a bare IPv6 address or a URL."""
    if "://" in text:
        try:
            return urlsplit(text).hostname or ""
        except ValueError:
            return ""
    if text.startswith("["):
        return text[1:].split("]", 1)[0]
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text  # a plain host name, or an IPv6 address without brackets


def is_loopback(host_or_hostport: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1, with or without a port or scheme."""
    host = _host_of(host_or_hostport.strip()).lower()
    if host == "localhost":
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def parse_endpoint(value: str, *, lan: bool = False, any_port: bool = False) -> str:
    """`scheme://host[:port]` for a host override; ValueError with a sentence naming `value`."""
    text = value.strip()
    if not text:
        raise ValueError(f"{value!r}: give a host name")
    if "://" not in text:
        if isinstance(_ip(text), ipaddress.IPv6Address):
            text = f"[{text}]"  # a bare ::1
        text = ("http://" if is_loopback(text) else "https://") + text
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ValueError(f"{value!r}: not a host name or URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{value!r}: the scheme must be https (or http for a loopback test fake)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"{value!r}: give only a host and port, no path, query or user "
                         f"(the URL prefix is fixed)")
    host = parts.hostname or ""
    if not host or not (_HOST_RX.match(host) or _ip(host)):
        raise ValueError(f"{value!r}: not a host name")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"{value!r}: bad port")
    if not lan and not is_loopback(host):
        if parts.scheme == "http":
            raise ValueError(f"{value!r}: plain http is allowed only for a loopback address "
                             f"(the local test fake); use https")
        if port is not None and not any_port:
            raise ValueError(f"{value!r}: a custom port is allowed only for a loopback address "
                             f"(the local test fake)")
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{netloc}" + (f":{port}" if port is not None else "")


def _api_host(value: str) -> str:
    return parse_endpoint(value)


def _api_host_any_port(value: str) -> str:
    return parse_endpoint(value, any_port=True)


def _lan_host(value: str) -> str:
    return parse_endpoint(value, lan=True)


# Config field types; the validated value is the normalized `scheme://host[:port]`.
ApiHost = Annotated[str, AfterValidator(_api_host)]                  # a cloud API
ApiHostAnyPort = Annotated[str, AfterValidator(_api_host_any_port)]  # ... that may take a port
LanHost = Annotated[str, AfterValidator(_lan_host)]                  # a device on the LAN
