"""Application names by transport and port, from the shipped table data/app_ports.csv."""
from __future__ import annotations

from ..data import read_csv

_TRANSPORTS = {"tcp": 6, "udp": 17, "sctp": 132}


def load_app_ports(name="app_ports.csv"):
    """{(protocol_number << 16) | port: app}. One int key keeps the per-flow lookup cheap."""
    table = {}
    for row in read_csv(name):
        proto = _TRANSPORTS[row["transport"].strip().lower()]
        table[(proto << 16) | int(row["port"])] = row["app"].strip()
    return table


def app_for(table, protocol_number, src_port, dest_port):
    """The server (dest) port names the application; the source port is the fallback."""
    base = protocol_number << 16
    return table.get(base | dest_port) or table.get(base | src_port)
