"""The Splunk helper's settings -> engine config mapping, and globalConfig.json kept in step with SCHEMA."""
import json
import os
import re

import pytest

import TA_boundaryflow_collector_helper as helper
from boundaryflow import config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GLOBAL_CONFIG = json.load(open(os.path.join(ROOT, "globalConfig.json")))
INPUT = "boundaryflow_collector://c1"
SCHEMA_KEYS = {(s, k) for s, k, _p, _d, _h in config.SCHEMA}
FEED_KEYS = {k for k, _p, _d, _h in config.FEED_SCHEMA}


def tabs():
    return {t.get("name", t.get("type")): t for t in GLOBAL_CONFIG["pages"]["configuration"]["tabs"]}


def input_entities():
    (service,) = GLOBAL_CONFIG["pages"]["inputs"]["services"]
    return service["entity"]


def engine_key(section, field):
    """The engine key a UCC field names under the helper's naming rule, or None."""
    for key in (field, field[len(section) + 1:] if field.startswith(section + "_") else None):
        if key and (section, key) in SCHEMA_KEYS:
            return key
    return None


def ucc_fields():
    """(section, field, entity) for every field the helper maps into the engine config."""
    for e in input_entities():
        if e["field"] in helper.UCC_ONLY_FIELDS:
            continue
        section = next(s for s in helper.INPUT_SECTIONS if engine_key(s, e["field"]))
        yield section, e["field"], e
    for section in helper.SETTINGS_SECTIONS:
        for e in tabs()[section]["entity"]:
            if e["field"] not in helper.UCC_ONLY_FIELDS:
                yield section, e["field"], e


def test_every_ucc_field_is_an_engine_key_or_a_known_splunk_field():
    for e in input_entities():
        assert e["field"] in helper.UCC_ONLY_FIELDS or any(engine_key(s, e["field"]) for s in helper.INPUT_SECTIONS), e["field"]
    for section in helper.SETTINGS_SECTIONS:
        for e in tabs()[section]["entity"]:
            assert e["field"] in helper.UCC_ONLY_FIELDS or engine_key(section, e["field"]), (section, e["field"])
    for e in tabs()["threat_feed"]["entity"]:
        assert e["field"] in FEED_KEYS | {"name", "account"}, e["field"]


def test_setup_page_defaults_are_the_engine_defaults():
    defaults = {(s, k): p(d) for s, k, p, d, _h in config.SCHEMA}
    parsers = {(s, k): p for s, k, p, _d, _h in config.SCHEMA}
    for section, field, e in ucc_fields():
        if e.get("defaultValue") in (None, "") or (section, field) == ("output", "sink"):
            continue      # unset = the helper decides (app lookups dir; the stream sink inside Splunk)
        key = engine_key(section, field)
        default = e["defaultValue"]
        if isinstance(default, bool):
            default = "true" if default else "false"
        assert parsers[(section, key)](str(default)) == defaults[(section, key)], (section, field)


def test_each_regex_validator_accepts_its_default_and_is_a_python_compatible_pattern():
    for section, field, e in ucc_fields():
        for v in e.get("validators", []):
            if v["type"] == "regex" and e.get("defaultValue") not in (None, ""):
                assert re.match(v["pattern"], str(e["defaultValue"])), (field, v["pattern"])
            if v["type"] == "regex":
                assert e["label"] in v["errorMsg"]         # the UI message names the field


@pytest.mark.parametrize("field, bad", [
    ("exfil_burst_bytes", "1GiBB"), ("exfil_burst_bytes", "1 gigabyte"), ("long_lived", "4hours"),
    ("internal_networks", "10.0.0.0/8,not-a-net"), ("inference_ports", "443,http"),
])
def test_setup_page_validators_refuse_typos(field, bad):
    entity = next(e for s, f, e in ucc_fields() if f == field)
    patterns = [v["pattern"] for v in entity["validators"] if v["type"] == "regex"]
    assert not all(re.match(p, bad) for p in patterns)


def build(input_item=None, settings=None, accounts=None, feeds=None, tmp="/tmp/bf-ck"):
    item = {"listen": "127.0.0.1:2055", "index": "netflow"}
    item.update(input_item or {})
    return helper.build_mapping(INPUT, item, settings, accounts, feeds, tmp)


def test_mapping_uses_exactly_schema_keys_and_splunk_decides_state_and_source(tmp_path):
    mapping, secrets = build({"reduction_mode": "flow", "workers": "2", "host": "hf1"},
                             {"detection": {"exfil_burst_bytes": "2GiB", "loglevel": "x"},
                              "output": {"sink": "splunk"}}, tmp=str(tmp_path))
    for section, values in mapping.items():
        for key in values:
            assert (section, key) in SCHEMA_KEYS, (section, key)
    cfg = helper.engine_config(mapping)
    assert cfg.reduction.mode == "flow" and cfg.collector.workers == 2
    assert cfg.detection.exfil_burst_bytes == 2 * 1024 ** 3
    assert cfg.collector.state_dir == str(tmp_path / "boundaryflow" / "c1")
    assert cfg.output.sink == "splunk" and cfg.output.index == "netflow"
    assert cfg.output.source == INPUT and cfg.output.host == "hf1"
    assert cfg.enrichment.lookups_dir == os.path.join(helper.APP_DIR, "lookups")
    assert secrets == {}


def test_default_index_is_left_to_splunkd():
    mapping, _ = build({"index": "default"})
    assert helper.engine_config(mapping).output.index == ""


@pytest.mark.parametrize("input_item, settings, named", [
    ({"listen": "0.0.0.0:70000"}, None, "[collector] listen"),
    ({"exporters": "192.0.2.0/24,300.1.1.1"}, None, "[collector] exporters"),
    (None, {"enrichment": {"internal_networks": "10.0.0.0/8,10.0.0/33"}}, "[enrichment] internal_networks"),
    (None, {"detection": {"exfil_burst_bytes": "1GiBB"}}, "[detection] exfil_burst_bytes"),
    (None, {"detection": {"learning_period": "7 days"}}, "[detection] learning_period"),
    (None, {"detection": {"timezone": "Mars/Olympus"}}, "[detection] timezone"),
    (None, {"enrichment": {"geoip_city_db": "/nonexistent/GeoLite2-City.mmdb"}}, "[enrichment] geoip_city_db"),
    (None, {"enrichment": {"geoip_asn_db": "/"}}, "[enrichment] geoip_asn_db"),
    (None, {"output": {"sink": "hec"}}, "[output] hec_url"),
])
def test_bad_values_are_refused_naming_the_key(input_item, settings, named):
    mapping, _ = build(input_item, settings)
    with pytest.raises(config.ConfigError) as e:
        helper.engine_config(mapping)
    assert str(e.value).startswith(named), str(e.value)


def test_database_paths_expand_splunk_home_and_must_be_readable(tmp_path, monkeypatch):
    db = tmp_path / "share" / "GeoLite2-City.mmdb"
    db.parent.mkdir()
    db.write_bytes(b"\xab\xcd\xefMaxMind.com")
    monkeypatch.setenv("SPLUNK_HOME", str(tmp_path))
    mapping, _ = build(settings={"enrichment": {"geoip_city_db": "$SPLUNK_HOME/share/GeoLite2-City.mmdb"}})
    assert helper.engine_config(mapping).enrichment.geoip_city_db == str(db)


def test_secrets_become_environment_variables_never_config_values():
    accounts = {"mm": {"account_type": "maxmind", "username": "123456", "secret": "mm-license-SECRET"},
                "hec1": {"account_type": "hec", "secret": "hec-token-SECRET"},
                "taxii1": {"account_type": "taxii", "username": "u", "secret": "taxii-SECRET"},
                "okta1": {"account_type": "okta", "url": "https://example.okta.com", "secret": "okta-SECRET"},
                "entra1": {"account_type": "entra_id", "url": "tenant-guid", "username": "client-guid",
                           "secret": "entra-SECRET"}}
    settings = {"enrichment": {"maxmind_account": "mm", "okta_account": "okta1", "entra_account": "entra1"},
                "output": {"sink": "hec", "hec_url": "https://hec.example.com:8088", "hec_account": "hec1"}}
    feeds = {"ti-1": {"url": "https://taxii.example.com/api/", "format": "taxii", "collection": "c1",
                      "interval": "1h", "account": "taxii1", "verify_tls": "1"}}
    mapping, secrets = build(settings=settings, accounts=accounts, feeds=feeds)
    for account in accounts.values():
        assert account["secret"] not in json.dumps(mapping)
    assert secrets == {"BOUNDARYFLOW_MAXMIND_KEY": "mm-license-SECRET", "BOUNDARYFLOW_HEC_TOKEN": "hec-token-SECRET",
                       "BOUNDARYFLOW_FEED_TI_1_TOKEN": "taxii-SECRET", "BOUNDARYFLOW_OKTA_TOKEN": "okta-SECRET",
                       "BOUNDARYFLOW_ENTRA_SECRET": "entra-SECRET"}
    cfg = helper.engine_config(mapping)
    assert cfg.enrichment.maxmind_account_id == "123456"
    assert cfg.enrichment.maxmind_license_key_env == "BOUNDARYFLOW_MAXMIND_KEY"
    assert cfg.output.hec_token_env == "BOUNDARYFLOW_HEC_TOKEN"
    assert cfg.enrichment.okta_url == "https://example.okta.com"
    assert (cfg.enrichment.entra_tenant_id, cfg.enrichment.entra_client_id) == ("tenant-guid", "client-guid")
    assert cfg.feeds["ti-1"].token_env == "BOUNDARYFLOW_FEED_TI_1_TOKEN" and cfg.feeds["ti-1"].verify_tls is True


def test_a_missing_account_is_refused_by_name():
    with pytest.raises(config.ConfigError, match="'gone'.*Accounts tab"):
        build(settings={"output": {"hec_account": "gone"}})


def test_threat_feed_rules_of_the_engine_apply_to_setup_page_feeds():
    mapping, _ = build(feeds={"plain": {"url": "http://feeds.example.com/ips.txt", "format": "iplist"}})
    with pytest.raises(config.ConfigError, match=r"^\[threat_feed:plain\] url: use https://"):
        helper.engine_config(mapping)
    mapping, _ = build(feeds={"c": {"url": "https://feeds.example.com/ips.csv", "format": "csv"}})
    with pytest.raises(config.ConfigError, match=r"^\[threat_feed:c\] column"):
        helper.engine_config(mapping)


def test_messages_for_input_fields_name_the_ucc_field():
    assert helper._field_hint(config.ConfigError("[reduction] mode: expected one of")).startswith('Field "reduction_mode"')
    assert helper._field_hint(config.ConfigError("[collector] listen: bad")).startswith('Field "listen"')
    assert helper._field_hint(config.ConfigError("[detection] long_lived: bad")) == "[detection] long_lived: bad"


def test_splunk_input_runs_the_collector_with_the_engines_gc_settings(monkeypatch, tmp_path):
    """The modular input must tune the garbage collector exactly as `boundaryflow collect` does
    (boundaryflow.gc_tuning): with CPython's defaults every record costs more."""
    import gc
    import logging

    import boundaryflow.pipeline as pipeline
    from boundaryflow.gc_tuning import YOUNG_THRESHOLD
    seen = {}

    class FakeCollector(object):
        def __init__(self, cfg, sink):
            pass

        def run(self, stop):
            seen["threshold"] = gc.get_threshold()

    import signal
    saved = gc.get_threshold()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    monkeypatch.setattr(pipeline, "Collector", FakeCollector)
    try:
        gc.set_threshold(700, 10, 10)
        cfg = config.default(output_sink="jsonl", output_path=str(tmp_path / "out.jsonl"))
        helper.run_collector(cfg, "boundaryflow_collector://t", logging.getLogger("test"))
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)
        for sig, handler in handlers.items():     # run_collector installs its own
            signal.signal(sig, handler)
    assert seen["threshold"][0] == YOUNG_THRESHOLD
