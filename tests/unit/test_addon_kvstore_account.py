"""The setup page's search-head REST account -> [enrichment] splunk_rest_* keys + an environment
variable holding the credential (never a config value), and the KV store fields' validators."""
import base64
import json
import os
import re

import pytest

import TA_boundaryflow_collector_helper as helper
from boundaryflow import config

INPUT = "boundaryflow_collector://c1"
ENV = "BOUNDARYFLOW_SPLUNK_REST_TOKEN"


def build(settings, accounts):
    return helper.build_mapping(INPUT, {"listen": "127.0.0.1:2055"}, settings, accounts, {}, "/tmp/bf-ck")


def enrichment_field(name):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "globalConfig.json")) as fh:
        tabs = json.load(fh)["pages"]["configuration"]["tabs"]
    (tab,) = [t for t in tabs if t.get("name") == "enrichment"]
    return next(e for e in tab["entity"] if e["field"] == name)


def test_a_token_account_sets_the_url_and_exports_the_token():
    accounts = {"sh1": {"account_type": "splunk_rest", "url": "https://sh.example.com:8089", "secret": "tok-SECRET"}}
    settings = {"enrichment": {"splunk_rest_account": "sh1", "kv_identity": "TA_boundaryflow/boundaryflow_identity",
                               "kv_poll_interval": "10m"}}
    mapping, secrets = build(settings, accounts)
    assert "tok-SECRET" not in json.dumps(mapping)
    assert secrets == {ENV: "tok-SECRET"}
    en = helper.engine_config(mapping).enrichment
    assert (en.splunk_rest_url, en.splunk_rest_token_env) == ("https://sh.example.com:8089", ENV)
    assert (en.kv_ip_intel, en.kv_identity, en.kv_poll_interval) == (
        "SA-ThreatIntelligence/ip_intel", "TA_boundaryflow/boundaryflow_identity", 600.0)


def test_a_user_and_password_account_becomes_basic_credentials_in_the_environment_only():
    accounts = {"sh1": {"account_type": "splunk_rest", "url": "https://sh:8089", "username": "svc_bf",
                        "secret": "pw-SECRET"}}
    mapping, secrets = build({"enrichment": {"splunk_rest_account": "sh1"}}, accounts)
    assert "pw-SECRET" not in json.dumps(mapping) and "svc_bf" not in json.dumps(mapping)
    scheme, value = secrets[ENV].split(" ", 1)
    assert scheme == "Basic" and base64.b64decode(value).decode() == "svc_bf:pw-SECRET"


@pytest.mark.parametrize("url, message", [("", "management URL"), ("http://sh:8089", "https")])
def test_an_account_without_an_https_url_is_refused_naming_the_key(url, message):
    accounts = {"sh1": {"account_type": "splunk_rest", "url": url, "secret": "t"}}
    with pytest.raises(config.ConfigError, match=r"\[enrichment\] splunk_rest_url: .*%s" % message):
        helper.engine_config(build({"enrichment": {"splunk_rest_account": "sh1"}}, accounts)[0])


def test_without_the_account_nothing_is_pulled():
    mapping, secrets = build({"enrichment": {"kv_ip_intel": "SA-ThreatIntelligence/ip_intel"}}, {})
    assert helper.engine_config(mapping).enrichment.splunk_rest_url == "" and secrets == {}


@pytest.mark.parametrize("field, good, bad", [
    ("kv_ip_intel", ["SA-ThreatIntelligence/ip_intel", ""], ["ip_intel", "a/b/c", "app/ip intel"]),
    ("kv_identity", ["TA_boundaryflow/boundaryflow_identity.csv"], ["boundaryflow_identity.csv"]),
    ("kv_poll_interval", ["15m", "1h"], ["15 minutes"]),
])
def test_setup_page_validators_match_the_engine(field, good, bad):
    patterns = [v["pattern"] for v in enrichment_field(field)["validators"] if v["type"] == "regex"]
    parser = {k: p for s, k, p, _d, _h in config.SCHEMA if s == "enrichment"}[field]
    for text in good:
        assert all(re.match(p, text) for p in patterns), text
        parser(text)
    for text in bad:
        assert not all(re.match(p, text) for p in patterns), text
        with pytest.raises(ValueError):
            parser(text)
