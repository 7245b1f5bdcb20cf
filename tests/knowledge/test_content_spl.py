"""Every search the app ships names only what exists (nothing here can run SPL).

Each search of savedsearches.conf (with its notable drilldowns) and of the Dashboard Studio views
is checked by content/lib/splcheck.py against: our events (model.flow_event, model.Finding.event,
pipeline.health_events), the app (macros.conf, transforms.conf, package/lookups/*.csv) and the CIM
data models of pytest-splunk-addon 6.4.0.
"""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "content"))

from lib import inventory, shipped, sources  # noqa: E402
from lib.splcheck import Checker, SplError  # noqa: E402

SEARCHES = shipped.searches()


@pytest.fixture(scope="module")
def checker():
    return Checker(inventory.macro_definitions(), inventory.lookups(), inventory.sourcetype_fields(),
                   inventory.datamodels())


def test_the_app_ships_searches():
    where = [w for w, _s in SEARCHES]
    assert sum(1 for w in where if w.startswith("savedsearches.conf")) >= 25
    assert sum(1 for w in where if w.startswith("views/")) >= 25


@pytest.mark.parametrize("where,spl", SEARCHES, ids=[w for w, _s in SEARCHES])
def test_search_names_only_existing_fields_macros_lookups(checker, where, spl):
    try:
        checker.check(spl)
    except SplError as e:
        pytest.fail("%s: %s\n  search: %s" % (where, e, spl))


def test_every_macro_and_lookup_of_the_app_is_used_or_a_tuning_hook(checker):
    for _where, spl in SEARCHES:
        checker.check(spl)
    used = {name for name, _n in checker.used_macros}
    defined = set(inventory.macros())
    filters = {sources.filter_macro(d) for d in sources.detections()}
    # boundaryflow_index is used through boundaryflow_flows/findings/health
    assert defined - used - filters == set()
    assert {"boundaryflow_assets", "boundaryflow_egress_allowlist", "boundaryflow_inference_allowlist",
            "boundaryflow_management_allowlist", "boundaryflow_identity"} <= checker.used_lookups


def test_data_model_searches_cover_network_traffic_authentication_and_vpn(checker):
    for _where, spl in SEARCHES:
        checker.check(spl)
    assert {("Network_Traffic", "All_Traffic"), ("Authentication", "Authentication"),
            ("Network_Sessions", "All_Sessions")} <= checker.used_datamodels


def test_cim_fields_our_events_claim_exist_in_the_data_models():
    """The flow and finding events use CIM names: every CIM-looking field we emit is in the model."""
    dm = inventory.datamodels()
    traffic = dm["Network_Traffic"]["All_Traffic"]
    ids = dm["Intrusion_Detection"]["IDS_Attacks"]
    flow = inventory.flow_fields()
    finding = inventory.finding_fields()
    for name in ("src", "dest", "src_ip", "dest_ip", "src_port", "dest_port", "bytes", "bytes_in", "bytes_out",
                 "packets", "packets_in", "packets_out", "action", "app", "dvc", "transport", "protocol",
                 "protocol_version", "tcp_flag", "duration", "vendor_product", "direction"):
        assert name in flow and name in traffic, name
    for name in ("signature", "signature_id", "severity", "category", "src", "dest", "dest_port", "user",
                 "action", "dvc", "ids_type", "vendor_product"):
        assert name in finding and name in ids, name
