"""Host overrides of the cloud APIs: only the host may change; http and ports only for a fake."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from circuitq.config.ecobee import EcobeeConfig
from circuitq.config.endpoint import is_loopback, parse_endpoint
from circuitq.config.notifier import ProwlConfig
from circuitq.config.solar import EnvoySource, PvoutputSource


@pytest.mark.parametrize("value", ["localhost", "LOCALHOST:8080", "127.0.0.1", "127.45.0.9:80", "::1",
                                   "[::1]:8443", "http://127.0.0.1:8123", "https://localhost"])
def test_loopback_hosts_are_recognised(value):
    assert is_loopback(value)


@pytest.mark.parametrize("value", ["api.ecobee.com", "192.168.1.50", "10.0.0.1:80", "[fe80::1]:80",
                                   "localhost.example.com", "http://evil.example", "128.0.0.1"])
def test_other_hosts_are_not_loopback(value):
    assert not is_loopback(value)


@pytest.mark.parametrize("value,expected", [
    ("pvoutput.org", "https://pvoutput.org"),               # no scheme: https ...
    ("127.0.0.1:8080", "http://127.0.0.1:8080"),            # ... except for a loopback fake
    ("localhost", "http://localhost"),
    ("[::1]:9000", "http://[::1]:9000"),
    ("::1", "http://[::1]"),
    ("https://127.0.0.1:8443/", "https://127.0.0.1:8443"),  # an explicit scheme is kept
    ("  API.Example.com ", "https://api.example.com"),
])
def test_defaults_and_normal_form(value, expected):
    assert parse_endpoint(value) == expected
    assert parse_endpoint(expected) == expected  # a stored value reads back the same


@pytest.mark.parametrize("value,why", [
    ("https://api.ecobee.com/1/thermostat", "no path"),
    ("api.ecobee.com/evil", "no path"),
    ("https://api.ecobee.com?token=1", "no path, query or user"),
    ("https://user:pw@api.ecobee.com", "no path, query or user"),
    ("http://api.ecobee.com", "plain http is allowed only for a loopback"),
    ("http://192.168.1.50", "plain http is allowed only for a loopback"),
    ("api.ecobee.com:8443", "custom port is allowed only for a loopback"),
    ("ftp://127.0.0.1", "scheme must be https"),
    ("https://bad host", "not a host name"),
    ("example.com:99999", "bad port"),
    ("", "give a host"),
])
def test_refusals_name_the_value(value, why):
    with pytest.raises(ValueError, match=why) as err:
        parse_endpoint(value)
    assert repr(value) in str(err.value)


def test_lan_devices_may_use_http_and_ports_but_not_paths():
    assert parse_endpoint("http://192.168.1.50", lan=True) == "http://192.168.1.50"
    assert parse_endpoint("192.168.1.50:8080", lan=True) == "https://192.168.1.50:8080"
    assert parse_endpoint("envoy.local", lan=True) == "https://envoy.local"
    with pytest.raises(ValueError, match="no path"):
        parse_endpoint("http://192.168.1.50/production.json", lan=True)


def test_any_port_allows_https_on_a_staging_host_but_never_http():
    assert parse_endpoint("staging.example.com:8443", any_port=True) == "https://staging.example.com:8443"
    with pytest.raises(ValueError, match="plain http"):
        parse_endpoint("http://staging.example.com:8080", any_port=True)


def test_config_fields_store_the_normal_form_and_name_the_key():
    assert EcobeeConfig(api_host="127.0.0.1:8080", poll_s=1).api_host == "http://127.0.0.1:8080"
    assert ProwlConfig(host="localhost:9").host == "http://localhost:9"
    assert EnvoySource(kind="envoy", host="http://192.168.1.50").host == "http://192.168.1.50"
    with pytest.raises(ValidationError, match="host"):
        PvoutputSource(kind="pvoutput", host="http://pvoutput.org")
    with pytest.raises(ValidationError, match="api_host"):
        EcobeeConfig(api_host="api.ecobee.com/1")
