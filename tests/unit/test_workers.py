"""SO_REUSEPORT steering: an exporter's datagrams stay on one worker whatever its source port."""
import socket
import time

from boundaryflow.collector import free_udp_port, open_udp_socket
from boundaryflow.workers import attach_address_hash, worker_index_for


def test_cbpf_steers_by_exporter_address_only():
    n, port = 3, free_udp_port()
    socks = [open_udp_socket("127.0.0.1", port, 1 << 20, reuseport=True) for _ in range(n)]
    try:
        attach_address_hash(socks[0], n)
        exporters = ["127.0.0.%d" % i for i in range(1, 10)]
        for src in exporters:
            for _ in range(6):                  # new source port every time
                c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                c.bind((src, 0))
                c.sendto(src.encode(), ("127.0.0.1", port))
                c.close()
        time.sleep(0.2)
        seen = {}
        for i, s in enumerate(socks):
            while True:
                try:
                    data, addr = s.recvfrom(100)
                except BlockingIOError:
                    break
                seen.setdefault(addr[0], set()).add(i)
        assert sorted(seen) == exporters
        for ip, where in seen.items():
            assert where == {worker_index_for(ip, n)}, ip
        assert len({worker_index_for(ip, n) for ip in exporters}) == n
    finally:
        for s in socks:
            s.close()
