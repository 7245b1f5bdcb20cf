"""The only Splunk glue of Boundary Flow: the "Flow collector" modular input (DESIGN.md §2).

The UCC-generated ``bin/boundaryflow_collector.py`` calls :func:`validate_input` (splunkd's
``--validate-arguments``) and :func:`stream_events` (the long-running input). This module reads the
add-on's settings and encrypted credentials through solnlib, turns them into the engine's
``{section: {key: text}}`` mapping with exactly the keys of ``boundaryflow.config.SCHEMA``, lets
``config.from_mapping`` validate them (its messages name the key and the fix), and runs
``boundaryflow.pipeline.Collector`` with a :class:`SplunkStreamSink` on stdout.

Naming rule between globalConfig.json and the engine: a UCC field is named like the engine key
(``exfil_burst_bytes``) or ``<section>_<key>`` where the bare key would be ambiguous
(``reduction_mode``). Collector and reduction keys come from the input stanza; enrichment,
detection and output keys from the settings tab of the same name. Secrets reach the engine only as
environment variables of this process, named by the ``*_env`` keys; never in files or logs.
"""
from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading

APP_NAME = "TA_boundaryflow"
SETTINGS_CONF = "ta_boundaryflow_settings"
ACCOUNT_CONF = "ta_boundaryflow_account"
FEED_CONF = "ta_boundaryflow_threat_feed"
INPUT_SECTIONS = ("collector", "reduction")          # from the input stanza
SETTINGS_SECTIONS = ("enrichment", "detection", "output")   # from settings tabs
# UCC fields that are not engine keys (references to accounts, Splunk's own stanza keys).
UCC_ONLY_FIELDS = frozenset(["name", "index", "maxmind_account", "hec_account", "okta_account", "entra_account",
                             "splunk_rest_account",
                             "account", "loglevel",
                             "host", "interval", "disabled", "python.version", "python.required",
                             "sourcetype", "start_by_shell"])
FEED_FIELDS = ("url", "format", "column", "collection", "interval", "category", "verify_tls")

BIN_DIR = os.path.dirname(os.path.abspath(__file__))
APP_DIR = os.path.dirname(BIN_DIR)

log = logging.getLogger("boundaryflow")


# -- settings -> engine mapping (pure functions; tested without splunkd) ------------------------
def _schema_keys():
    from boundaryflow import config
    keys = {}
    for section, key, _parser, _default, _help in config.SCHEMA:
        keys.setdefault(section, []).append(key)
    return keys


def _env_name(*parts):
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", p).upper().strip("_") for p in parts)


def _field(source, section, key):
    """The UCC value for an engine key: field ``key`` or ``<section>_<key>``; None when unset."""
    for name in (key, "%s_%s" % (section, key)):
        value = source.get(name)
        if value is not None and str(value).strip() != "":
            return str(value)
    return None


def _expand(value):
    return os.path.expandvars(os.path.expanduser(value)) if value else value


def build_mapping(input_name, input_item, settings=None, accounts=None, feeds=None,
                  checkpoint_dir=None, app_dir=APP_DIR):
    """Engine mapping and the secrets to export for one input stanza.

    input_name: ``boundaryflow_collector://NAME``; input_item: the stanza's parameters;
    settings: ``{tab: {field: value}}``; accounts / feeds: ``{name: {field: value}}`` (secrets
    already decrypted by solnlib). Returns ``(mapping, secrets)`` where secrets is
    ``{ENV_NAME: value}``.
    """
    settings, accounts, feeds = settings or {}, accounts or {}, feeds or {}
    short = input_name.split("://", 1)[-1]
    mapping, secrets = {}, {}
    from boundaryflow.config import PATH_KEYS
    for section, keys in _schema_keys().items():
        source = input_item if section in INPUT_SECTIONS else settings.get(section, {})
        values = {}
        for key in keys:
            value = _field(source, section, key)
            if value is not None:
                values[key] = _expand(value) if (section, key) in PATH_KEYS else value
        mapping[section] = values

    # Splunk decides these, not the admin.
    checkpoint_dir = checkpoint_dir or os.path.join(app_dir, "local", "state")
    mapping["collector"]["state_dir"] = os.path.join(checkpoint_dir, "boundaryflow", re.sub(r"[^\w.-]", "_", short))
    mapping["enrichment"].setdefault("lookups_dir", os.path.join(app_dir, "lookups"))
    out = mapping["output"]
    out.setdefault("sink", "splunk")
    out["source"] = input_name
    if out["sink"] == "splunk":
        out["path"] = "-"
        if input_item.get("index") and input_item["index"] != "default":   # "default": splunkd decides
            out["index"] = input_item["index"]
    host = input_item.get("host")
    if host and host != "$decideOnStartup":
        out["host"] = host

    def secret_of(account_name, account_type, env):
        if not account_name:
            return None
        account = accounts.get(account_name)
        if account is None:
            from boundaryflow.config import ConfigError
            raise ConfigError("account %r (type %s) does not exist: create it on the Accounts tab" % (account_name, account_type))
        if account.get("secret"):
            secrets[env] = account["secret"]
        return account

    hec = settings.get("output", {}).get("hec_account")
    if hec:
        out.setdefault("hec_token_env", "BOUNDARYFLOW_HEC_TOKEN")
        secret_of(hec, "hec", out["hec_token_env"])
    maxmind = settings.get("enrichment", {}).get("maxmind_account")
    if maxmind:
        enr = mapping["enrichment"]
        enr.setdefault("maxmind_license_key_env", "BOUNDARYFLOW_MAXMIND_KEY")
        account = secret_of(maxmind, "maxmind", enr["maxmind_license_key_env"])
        if account.get("username"):
            enr["maxmind_account_id"] = account["username"]

    okta = settings.get("enrichment", {}).get("okta_account")
    if okta:
        enr = mapping["enrichment"]
        enr.setdefault("okta_token_env", "BOUNDARYFLOW_OKTA_TOKEN")
        account = secret_of(okta, "okta", enr["okta_token_env"])
        enr["okta_url"] = account.get("url") or ""
    entra = settings.get("enrichment", {}).get("entra_account")
    if entra:
        enr = mapping["enrichment"]
        enr.setdefault("entra_client_secret_env", "BOUNDARYFLOW_ENTRA_SECRET")
        account = secret_of(entra, "entra_id", enr["entra_client_secret_env"])
        enr["entra_tenant_id"] = account.get("url") or ""
        enr["entra_client_id"] = account.get("username") or ""

    splunk_rest = settings.get("enrichment", {}).get("splunk_rest_account")
    if splunk_rest:
        enr = mapping["enrichment"]
        enr.setdefault("splunk_rest_token_env", "BOUNDARYFLOW_SPLUNK_REST_TOKEN")
        account = secret_of(splunk_rest, "splunk_rest", enr["splunk_rest_token_env"])
        if not account.get("url"):
            from boundaryflow.config import ConfigError
            raise ConfigError("[enrichment] splunk_rest_url: account %r needs the search head's management URL "
                              "(https://sh.example.com:8089) in its URL field" % splunk_rest)
        enr["splunk_rest_url"] = account["url"]
        if account.get("username") and account.get("secret"):
            # user + password: HTTP basic auth, which splunkd's REST API accepts too
            secrets[enr["splunk_rest_token_env"]] = _basic_auth(account["username"], account["secret"])

    for name, feed in sorted(feeds.items()):
        section = {k: str(feed[k]) for k in FEED_FIELDS if feed.get(k) not in (None, "")}
        if feed.get("account"):
            section["token_env"] = _env_name("BOUNDARYFLOW_FEED", name, "TOKEN")
            secret_of(feed["account"], "taxii", section["token_env"])
        mapping["threat_feed:%s" % name] = section
    return mapping, secrets


def _basic_auth(user, password):
    import base64
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")


def check_readable(cfg):
    """Files the admin named must be readable by splunkd's user now, not fail at first lookup."""
    from boundaryflow.config import ConfigError
    for section, key in (("enrichment", "geoip_city_db"), ("enrichment", "geoip_asn_db"),
                         ("output", "hec_ca_bundle")):
        path = getattr(getattr(cfg, section), key)
        if not path:
            continue
        if not os.path.isfile(path):
            raise ConfigError("[%s] %s: %s is not a file (check the path on this Splunk instance)" % (section, key, path))
        try:
            with open(path, "rb") as fh:
                fh.read(1)
        except OSError as e:
            raise ConfigError("[%s] %s: cannot read %s: %s (splunkd's user needs read access)" % (section, key, path, e.strerror))


def engine_config(mapping, app_dir=APP_DIR):
    """Validated engine config; raises ConfigError naming ``[section] key``."""
    from boundaryflow import config
    cfg = config.from_mapping(mapping, base_dir=app_dir)
    check_readable(cfg)
    return cfg


# -- splunkd access (solnlib) -------------------------------------------------------------------
def read_splunk_settings(session_key, server_uri):
    """(settings, accounts, feeds) from the add-on's conf files; encrypted fields decrypted."""
    from urllib.parse import urlsplit
    from solnlib import conf_manager
    uri = urlsplit(server_uri or "https://127.0.0.1:8089")

    def stanzas(conf_name):
        cfm = conf_manager.ConfManager(
            session_key, APP_NAME, scheme=uri.scheme, host=uri.hostname, port=uri.port,
            realm="__REST_CREDENTIAL__#%s#configs/conf-%s" % (APP_NAME, conf_name))
        try:
            found = cfm.get_conf(conf_name).get_all(only_current_app=True)
        except conf_manager.ConfManagerException:
            return {}     # never saved on the setup page: engine defaults apply
        found.pop("default", None)   # splunkd's [default] stanza is not an account or a feed
        return found

    return stanzas(SETTINGS_CONF), stanzas(ACCOUNT_CONF), stanzas(FEED_CONF)


def _setup_logging(level_name):
    """The engine's logger, to $SPLUNK_HOME/var/log/splunk/ta_boundaryflow_collector.log (solnlib)
    inside Splunk, else to stderr (which splunkd also copies into splunkd.log)."""
    logger = logging.getLogger("boundaryflow")
    if not logger.handlers:
        handlers = []
        if os.environ.get("SPLUNK_HOME"):
            try:
                from solnlib import log as sol_log
                sol_log.Logs.set_context(namespace=APP_NAME.lower())
                handlers = list(sol_log.Logs().get_logger("collector").handlers)
            except Exception:   # no writable log directory: fall back to stderr
                handlers = []
        if not handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(levelname)s boundaryflow: %(message)s"))
            handlers = [handler]
        for handler in handlers:
            logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(getattr(logging, str(level_name or "INFO").upper(), logging.INFO))
    return logger


def _field_hint(error):
    """'[collector] listen: ...' -> 'Field "listen": [collector] listen: ...' (the UCC field name)."""
    text = str(error)
    m = re.match(r"^\[([^\]]+)\] (\w+):", text)
    if m and m.group(1) in INPUT_SECTIONS:
        section, key = m.group(1), m.group(2)
        from boundaryflow.config import SCHEMA
        keys = [k for _s, k, _p, _d, _h in SCHEMA]
        field = key if keys.count(key) == 1 and section == "collector" else "%s_%s" % (section, key)
        return 'Field "%s": %s' % (field, text)
    return text


# -- UCC entry points ---------------------------------------------------------------------------
def validate_input(definition):
    """splunkd ``--validate-arguments``: refuse the input stanza with the engine's message.

    The input's own fields are always checked. The settings tabs are checked too when splunkd
    answers (e.g. an unreadable GeoIP database path); their syntax is already checked by the
    setup page's validators.
    """
    from boundaryflow.config import ConfigError
    meta = definition.metadata
    name = "boundaryflow_collector://%s" % meta.get("name", "input")
    settings = accounts = feeds = None
    if meta.get("session_key"):
        try:
            settings, accounts, feeds = read_splunk_settings(meta["session_key"], meta.get("server_uri"))
        except Exception as e:   # splunkd's REST not reachable from here: input fields only
            sys.stderr.write("WARNING boundaryflow: settings not checked (%s)\n" % type(e).__name__)
    try:
        mapping, _secrets = build_mapping(name, definition.parameters, settings, accounts, feeds,
                                          meta.get("checkpoint_dir"))
        engine_config(mapping)
    except ConfigError as e:
        raise ValueError(_field_hint(e))


def stream_events(inputs, ew):
    """Run one collector (one input stanza per process) until splunkd stops it."""
    from boundaryflow.config import ConfigError
    meta = inputs.metadata
    for input_name, input_item in inputs.inputs.items():
        settings, accounts, feeds = read_splunk_settings(meta.get("session_key"), meta.get("server_uri"))
        logger = _setup_logging(settings.get("logging", {}).get("loglevel"))
        try:
            mapping, secrets = build_mapping(input_name, input_item, settings, accounts, feeds,
                                             meta.get("checkpoint_dir"))
            os.environ.update(secrets)    # this process only; never written anywhere
            cfg = engine_config(mapping)
        except ConfigError as e:
            logger.error("input %s refused its configuration: %s", input_name, _field_hint(e))
            raise
        run_collector(cfg, input_name, logger)
        return   # use_single_instance = False: one stanza per process


def run_collector(cfg, input_name, logger):
    """Collector(cfg, sink).run(stop) with SIGTERM/SIGINT -> graceful stop and flush."""
    from boundaryflow.gc_tuning import tune_gc
    from boundaryflow.pipeline import Collector
    tune_gc()            # the same collector settings as `boundaryflow collect`
    from boundaryflow.sinks.splunk_stream import SplunkStreamSink
    stop = threading.Event()

    def on_signal(signum, _frame):
        logger.info("signal %d: flushing and stopping %s", signum, input_name)
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if cfg.output.sink == "splunk":
        sink = SplunkStreamSink(sys.stdout, stanza=input_name, index=cfg.output.index)
    else:
        from boundaryflow.sinks import make_sink
        sink = make_sink(cfg)
    logger.info("input %s: listening on %s, reduction %s, sink %s", input_name,
                ",".join("%s:%d" % hp for hp in cfg.collector.listen), cfg.reduction.mode, cfg.output.sink)
    try:
        if cfg.collector.workers > 1:
            from boundaryflow.workers import run_workers
            if cfg.output.sink == "splunk":
                sink.open()      # one <stream> document; the forked workers' sinks add to it
            run_workers(cfg, stop)
        else:
            Collector(cfg, sink).run(stop)
    finally:
        sink.close()
