import os

import pytest

from boundaryflow import config


def test_defaults_match_design():
    cfg = config.default()
    assert cfg.collector.listen == [("0.0.0.0", 2055), ("0.0.0.0", 4739), ("0.0.0.0", 6343)]
    assert cfg.collector.template_ttl == 1800.0
    assert cfg.detection.exfil_burst_bytes == 1 << 30
    assert cfg.detection.exfil_slow_bytes == 256 << 20
    assert cfg.detection.learning_period == 7 * 86400
    assert cfg.detection.operational_hours == [(frozenset(range(5)), 7 * 60, 19 * 60)]
    assert cfg.detection.inference_ports == {443, 8000, 8080, 8443}
    assert cfg.reduction.mode == "conversation"
    assert [str(n) for n in cfg.enrichment.internal_networks][-1] == "fc00::/7"


@pytest.mark.parametrize("text,expected", [("512MiB", 512 << 20), ("1GiB", 1 << 30), ("64KB", 64000),
                                           ("1048576", 1048576), ("1.5GiB", 3 << 29)])
def test_sizes(text, expected):
    assert config.parse_size(text) == expected


@pytest.mark.parametrize("text,expected", [("30s", 30), ("5m", 300), ("4h", 14400), ("7d", 604800),
                                           ("250ms", 0.25), ("60", 60)])
def test_durations(text, expected):
    assert config.parse_duration(text) == expected


@pytest.mark.parametrize("section,key,value,words", [
    ("collector", "listen", "0.0.0.0:70000", ["[collector] listen", "out of range"]),
    ("collector", "listen", "10.0.0.300:2055", ["[collector] listen", "not an IP address"]),
    ("enrichment", "internal_networks", "10.0.0.0/33", ["[enrichment] internal_networks", "CIDR"]),
    ("detection", "exfil_burst_bytes", "1GIx", ["[detection] exfil_burst_bytes", "1GiB"]),
    ("detection", "long_lived", "4hours", ["[detection] long_lived", "duration"]),
    ("detection", "operational_hours", "Mon-Fry 07:00-19:00", ["operational_hours", "day names"]),
    ("detection", "timezone", "Mars/Olympus", ["[detection] timezone", "IANA"]),
    ("reduction", "mode", "everything", ["[reduction] mode", "conversation"]),
    ("output", "hec_token_env", "abc-123!", ["hec_token_env", "environment variable"]),
])
def test_bad_values_name_the_key(section, key, value, words):
    with pytest.raises(config.ConfigError) as e:
        config.from_mapping({section: {key: value}})
    for w in words:
        assert w in str(e.value)


def test_unknown_key_and_section_suggest_the_fix():
    with pytest.raises(config.ConfigError, match=r"\[collector\] lisen: unknown key \(did you mean 'listen'\?\)"):
        config.from_mapping({"collector": {"lisen": "0.0.0.0:2055"}})
    with pytest.raises(config.ConfigError, match=r"did you mean \[detection\]"):
        config.from_mapping({"detections": {}})


def test_operational_hours_several_items_and_wrap():
    hours = config.parse_hours("Mon-Fri 07:00-19:00; Sat,Sun 10:00-14:00; Fri-Mon 22:00-06:00")
    assert hours[1] == (frozenset({5, 6}), 600, 840)
    assert hours[2][0] == frozenset({4, 5, 6, 0})


def test_relative_paths_resolve_against_config_file(tmp_path):
    ini = tmp_path / "conf" / "bf.ini"
    ini.parent.mkdir()
    ini.write_text("[collector]\nstate_dir = state\n[enrichment]\nlookups_dir = ../lookups\n"
                   "[threat_feed:drop]\nurl = feeds/drop.txt\n")
    cfg = config.load_file(str(ini))
    assert cfg.collector.state_dir == str(tmp_path / "conf" / "state")
    assert cfg.enrichment.lookups_dir == str(tmp_path / "lookups")
    assert cfg.feeds["drop"].url == str(tmp_path / "conf" / "feeds" / "drop.txt")


def test_feed_rules():
    with pytest.raises(config.ConfigError, match=r"\[threat_feed:x\] url: use https://"):
        config.from_mapping({"threat_feed:x": {"url": "http://example.invalid/x"}})
    with pytest.raises(config.ConfigError, match=r"\[threat_feed:x\] column: required"):
        config.from_mapping({"threat_feed:x": {"url": "https://example.invalid/x", "format": "csv"}})


def test_hec_needs_url():
    with pytest.raises(config.ConfigError, match=r"\[output\] hec_url: required"):
        config.from_mapping({"output": {"sink": "hec"}})


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(config.ConfigError, match="cannot read config file"):
        config.load_file(str(tmp_path / "nope.ini"))
