"""Vendor fields from data/vendor_fields.csv: Cisco ASA NSEL, PAN-OS App-ID/User-ID, AVC/NBAR."""
import csv

import pytest

import decode_builders as B
from boundaryflow.data import data_path
from boundaryflow.decode import ExporterState, decode
from boundaryflow.decode.elements import lookup

V = B.VARIABLE
ADDR9 = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1)]
ADDR_VALUES = ["10.0.0.1", "203.0.113.5", 50000, 443, 6]


def v9_one(extra_fields, extra_values, state=None):
    st = state or ExporterState()
    fields = ADDR9 + extra_fields
    data = B.v9([B.v9_template_set([(256, fields)]),
                 B.data_set(256, [B.encode_record(fields, ADDR_VALUES + extra_values)])])
    (f,) = decode(data, st, 1.0)
    return f


@pytest.mark.parametrize("field,code,action", [
    (233, 1, "allowed"), (233, 2, "teardown"), (233, 3, "blocked"),
    (40005, 3, "blocked"), (40005, 2, "teardown"), (40005, 5, "allowed"),
])
def test_nsel_firewall_event_sets_action(field, code, action):
    f = v9_one([(field, 1), (231, 8), (232, 8)], [code, 1000, 2000])
    assert f.action == action
    assert (f.bytes_out, f.bytes_in) == (1000, 2000)     # initiator / responder octets
    assert f.initiator_known is True


def test_nsel_unknown_event_code_leaves_action_unset():
    f = v9_one([(233, 1)], [0])
    assert f.action is None


def test_nsel_translated_address_and_user_kept():
    f = v9_one([(40001, 4), (40003, 2), (40000, 20)], ["198.51.100.1", 61000, b"alice\0\0"])
    assert f.vendor == {"xlate_src_ip": "198.51.100.1", "xlate_src_port": 61000}
    assert f.src_user == "alice"


def test_panos_app_id_and_user_id():
    f = v9_one([(346, 4), (56701, 32), (56702, 64)], [25461, b"ssl", b"corp\\bob"])
    assert (f.app, f.src_user) == ("ssl", "corp\\bob")


def test_nbar_application_name_from_options():
    st = ExporterState()
    app_id = bytes([13]) + (453).to_bytes(3, "big")       # engine 13 (NBAR2), selector 453
    opt = B.v9_options_template_set(260, [(1, 4)], [(95, 4), (96, 24)])
    decode(B.v9([opt, B.data_set(260, [B.encode_record([(1, 4), (95, 4), (96, 24)],
                                                       [0, app_id, b"ms-teams"])])]), st, 1.0)
    known = v9_one([(95, 4)], [app_id], state=st)
    assert known.app == "ms-teams"
    other = v9_one([(95, 4)], [bytes([13, 0, 0, 7])], state=ExporterState())
    assert other.app == "nbar:13:7"


def test_ipfix_application_id_variable_length():
    st = ExporterState()
    fields = [(0, 8, 4), (0, 12, 4), (0, 95, V)]
    data = B.ipfix([B.ipfix_template_set([(256, fields)]),
                    B.data_set(256, [B.encode_record(fields, ["10.0.0.1", "10.0.0.2", bytes([3, 0, 80])])])])
    (f,) = decode(data, st, 1.0)
    assert f.app == "nbar:3:80"


def test_vendor_table_rows_are_well_formed():
    """Every row of the shipped tables parses and maps to a known attribute or role."""
    roles = {"start", "end", "start_uptime", "end_uptime", "start_delta", "end_delta",
             "duration_ms", "duration_us", "sys_init_ms", "end_observed", "icmp_typecode",
             "icmp_type", "icmp_code", "sampling_interval", "sampler_id", "sampling_algorithm",
             "packet_interval", "packet_space", "sampling_size", "sampling_population", "if_name",
             "if_description", "app_id", "app_name", "biflow_direction", "bytes_out_total",
             "packets_out_total", "src_ip", "dest_ip", "src_port", "dest_port", "protocol_number",
             "tcp_flags", "input_if", "output_if", "vlan", "bytes_out", "bytes_in", "packets_out",
             "packets_in", "app", "src_user", "dest_user", "action"}
    for name in ("ipfix_elements.csv", "vendor_fields.csv"):
        with open(data_path(name), encoding="utf-8") as fh:
            rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
        assert rows
        for row in rows:
            el = lookup(int(row["pen"]), int(row["id"]))
            assert el is not None and el.name == row["name"]
            assert not el.attr or el.attr in roles or el.attr.startswith("vendor:"), row


def test_nsel_event_time_and_absolute_start_in_v9():
    # ASA NSEL: NF_F_FLOW_CREATE_TIME_MSEC (152) and NF_F_EVENT_TIME_MSEC (323), no flow end
    f = v9_one([(152, 8), (323, 8), (233, 1)], [1700000000000, 1700000042500, 2])
    assert f.start == pytest.approx(1700000000.0) and f.end == pytest.approx(1700000042.5)
    assert f.action == "teardown"


def test_dot1q_vlan_and_duration_microseconds():
    f = v9_one([(243, 2), (153, 8), (162, 4)], [300, 1700000010000, 2500000])
    assert f.vlan == 300
    assert (f.start, f.end) == (pytest.approx(1700000007.5), pytest.approx(1700000010.0))
