#!/usr/bin/env bash
# Regenerate the golden captures (tests/golden/captures/*.pcap) with REAL exporters, and their
# reference records (tests/golden/reference/*.json) from INDEPENDENT decoders (tshark, nfdump).
# Run by `./build.sh captures`. Needs root (a private network namespace) and the Debian packages
# softflowd, pmacct, nfdump, tshark, tcpdump, iproute2.
#
# How: scripts/captures/make_input_pcap.py writes a synthetic AI-cluster traffic pcap (seeded, so the
# same bytes every run). Each exporter meters that file and exports to a collector on 127.0.0.1
# inside a private network namespace (its own loopback: no other traffic, no port clashes), while
# tcpdump records the export datagrams. For NetFlow/IPFIX the collector is nfcapd, whose files give
# the nfdump view of the very same datagrams; sFlow goes to a small UDP sink.
# Export headers carry wall-clock times, so captures differ run to run in those fields only; the
# reference is regenerated with them and the records themselves (addresses, counters, flow times
# taken from the input's packet times) stay the same.
#
# usage: scripts/make_captures.sh [NAME ...]     (default: every capture)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/tests/golden/captures
REF=$ROOT/tests/golden/reference
HELPERS=$ROOT/scripts/captures
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3

if [ "$(id -u)" -ne 0 ]; then echo "make_captures.sh: needs root (network namespace, tcpdump)" >&2; exit 1; fi
for tool in softflowd softflowctl pmacctd nfcapd nfdump nfreplay tshark tcpdump ip; do
  command -v "$tool" >/dev/null || { echo "make_captures.sh: missing $tool (./build.sh setup installs it)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/bf-captures.XXXXXX)
NS=bfcap$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  if [ -n "${KEEP_WORK:-}" ]; then echo "work files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }

mkdir -p "$OUT" "$REF"
"$PY" "$HELPERS/make_input_pcap.py" "$WORK/input.pcap"

# --- building blocks ---------------------------------------------------------------------------

# start_tcpdump NAME PORT: record export datagrams to PORT on the namespace's loopback.
#   -U write each packet at once, -Z root keep file ownership, -s 0 whole datagrams.
start_tcpdump() {
  local name=$1 port=$2
  in_ns tcpdump -i lo -s 0 -U -Z root -w "$WORK/$name.pcap" "udp dst port $port" 2>"$WORK/$name.tcpdump.log" &
  TCPDUMP_PID=$!; PIDS+=("$TCPDUMP_PID")
  for _ in $(seq 50); do grep -q "listening on" "$WORK/$name.tcpdump.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "tcpdump did not start for $name" >&2; return 1
}

# start_nfcapd DIR PORT: nfdump's collector. -w output dir, -b/-p bind address and port,
# -t 3600 one file per hour (no rotation during a run), -S 0 no sub directories.
start_nfcapd() {
  mkdir -p "$1"
  in_ns nfcapd -w "$1" -b 127.0.0.1 -p "$2" -t 3600 -S 0 >"$1.log" 2>&1 &
  NFCAPD_PID=$!; PIDS+=("$NFCAPD_PID")
  sleep 0.5
}

# start_sink PORT: a UDP receiver that discards (so exporters get no ICMP port unreachable).
start_sink() {
  in_ns "$PY" -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $1)); s.settimeout(15)
try:
    while True: s.recv(65535)
except OSError: pass" &
  SINK_PID=$!; PIDS+=("$SINK_PID")
  sleep 0.3
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# finish NAME: stop tcpdump, install the capture.
finish() {
  sleep 0.5
  stop "$TCPDUMP_PID"
  cp "$WORK/$1.pcap" "$OUT/$1.pcap"
  echo "==> $1: $(stat -c %s "$OUT/$1.pcap") bytes"
}

# nfdump_json DIR NAME: nfdump's reading of what nfcapd received, for the cross-check.
#   -R read every file in DIR, -o json one object per record, -q no summary.
nfdump_json() { nfdump -R "$1" -o json -q >"$WORK/$2.nfdump.json" 2>"$WORK/$2.nfdump.err" || true; }

# reference NAME KIND PORT "COMMAND": independent-decoder records -> tests/golden/reference/NAME.json
reference() {
  [ -n "${NO_REFERENCE:-}" ] && return 0
  local nfd=()
  [ -s "$WORK/$1.nfdump.json" ] && nfd=(--nfdump-json "$WORK/$1.nfdump.json")
  "$PY" "$HELPERS/reference.py" --capture "$OUT/$1.pcap" --kind "$2" --port "$3" \
    --exporter-command "$4" "${nfd[@]}" --out "$REF/$1.json"
}

wanted() { [ ${#SELECTED[@]} -eq 0 ] && return 0; local n; for n in "${SELECTED[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
SELECTED=("$@")

# --- softflowd ---------------------------------------------------------------------------------
# softflowd -r FILE  meter a pcap file instead of an interface
#   -v 5|9|10        export version (10 = IPFIX);  -b  RFC 5103 bidirectional records (IPFIX only)
#   -6               track IPv6 too (v9/IPFIX carry it; v5 cannot)
#   -a               take flow times from the file's packet times (not from the wall clock)
#   -n HOST:PORT     collector;  -d stay in the foreground;  -p/-c pid and control socket paths
# With -r softflowd keeps running after the file; `softflowctl shutdown` expires every flow,
# exports it and exits.
softflowd_capture() {
  local name=$1 port=$2 kind=$3; shift 3
  wanted "$name" || return 0
  start_tcpdump "$name" "$port"
  start_nfcapd "$WORK/$name.nf" "$port"
  local ctl=$WORK/$name.ctl
  in_ns softflowd -r "$WORK/input.pcap" "$@" -a -n "127.0.0.1:$port" -d -p "$WORK/$name.pid" -c "$ctl" \
    >"$WORK/$name.log" 2>&1 &
  local sf=$!; PIDS+=("$sf")
  for _ in $(seq 50); do [ -S "$ctl" ] && break; sleep 0.1; done
  sleep 1   # let it finish reading the file
  in_ns softflowctl -c "$ctl" shutdown >/dev/null
  wait "$sf" || true
  sleep 0.5
  stop "$NFCAPD_PID"
  finish "$name"
  nfdump_json "$WORK/$name.nf" "$name"
  reference "$name" "$kind" "$port" "softflowd -r input.pcap $* -a -n 127.0.0.1:$port -d"
}

softflowd_capture softflowd_v5          2055 netflow5 -v 5
softflowd_capture softflowd_v9          2055 netflow9 -v 9 -6
softflowd_capture softflowd_ipfix       4739 ipfix    -v 10 -6
softflowd_capture softflowd_ipfix_bidir 4739 ipfix    -v 10 -6 -b

# --- pmacct: pmacctd with the nfprobe (NetFlow v9 / IPFIX) and sfprobe (sFlow v5) plugins --------
# pmacctd reads the pcap (pcap_savefile), meters it and exits at its end, flushing the plugins.
# pre_tag_map sets tag / tag2 / label per traffic class: nfprobe exports them as pmacct enterprise
# IEs (PEN 43874), label as a variable-length string - the fields that break naive decoders.
cat >"$WORK/pretag.map" <<'EOF'
set_tag=2049 set_tag2=1 set_label=storage_nfs filter='tcp port 2049'
set_tag=443 set_tag2=2 set_label=https filter='tcp port 443'
set_tag=53 set_tag2=3 set_label=dns filter='udp port 53'
EOF

pmacct_capture() {
  local name=$1 port=$2 kind=$3 conf=$4 summary=$5
  wanted "$name" || return 0
  printf '%s\n' "$conf" >"$WORK/$name.conf"
  start_tcpdump "$name" "$port"
  if [ "$kind" = sflow5 ]; then start_sink "$port"; else start_nfcapd "$WORK/$name.nf" "$port"; fi
  # -f config file; it runs in the foreground (daemonize: false) and exits after the file.
  in_ns timeout 60 pmacctd -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log" >&2; return 1; }
  if [ "$kind" = sflow5 ]; then stop "$SINK_PID"; else sleep 0.5; stop "$NFCAPD_PID"; nfdump_json "$WORK/$name.nf" "$name"; fi
  finish "$name"
  reference "$name" "$kind" "$port" "pmacctd -f $name.conf  # $summary"
}

PM_COMMON="daemonize: false
pcap_savefile: $WORK/input.pcap
pre_tag_map: $WORK/pretag.map"
NF_AGG="aggregate: src_host, dst_host, src_port, dst_port, proto, tos, tcpflags, vlan, src_mac, dst_mac, tag, tag2, label"

pmacct_capture pmacct_v9 2055 netflow9 "$PM_COMMON
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:2055
nfprobe_version: 9
nfprobe_engine: 7
$NF_AGG" "nfprobe_version 9, engine 7, aggregate + tag/tag2/label"

pmacct_capture pmacct_ipfix 4739 ipfix "$PM_COMMON
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:4739
nfprobe_version: 10
nfprobe_engine: 7
$NF_AGG" "nfprobe_version 10, engine 7, aggregate + tag/tag2/label (PEN 43874, variable length)"

# sfprobe: every sampled packet becomes a flow sample with its first bytes (raw header record);
# the unsampled capture leaves the bulk transfers out (pcap_filter) to stay small.
pmacct_capture pmacct_sflow5 6343 sflow5 "$PM_COMMON
pcap_filter: not (tcp port 2049 or host 10.40.0.20)
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:6343
sfprobe_agentip: 192.0.2.200
sfprobe_agentsubid: 1
sampling_rate: 1" "sfprobe, sampling_rate 1, bulk storage traffic filtered out"

pmacct_capture pmacct_sflow5_sampled 6343 sflow5 "$PM_COMMON
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:6343
sfprobe_agentip: 192.0.2.201
sfprobe_agentsubid: 2
sampling_rate: 10" "sfprobe, sampling_rate 10 (1 in 10 packets)"

# --- nfdump: nfreplay re-exports flows stored by nfcapd ------------------------------------------
# Source: softflowd's v9 export of the input, collected by nfcapd. nfreplay -r FILE reads the flows,
# -v 5|9 chooses the export version, -H/-p the collector, -d 1000 µs between datagrams so none drop.
# v5 carries only IPv4, so nfreplay leaves the IPv6 flows out of that one.
nfreplay_capture() {
  local name=$1 version=$2 kind=$3
  wanted "$name" || return 0
  local src=$WORK/nfreplay_source
  if [ ! -d "$src" ]; then
    start_nfcapd "$src" 9995
    in_ns softflowd -r "$WORK/input.pcap" -v 9 -6 -a -n 127.0.0.1:9995 -d -p "$WORK/src.pid" -c "$WORK/src.ctl" >"$WORK/src.log" 2>&1 &
    local sf=$!; PIDS+=("$sf")
    for _ in $(seq 50); do [ -S "$WORK/src.ctl" ] && break; sleep 0.1; done
    sleep 1
    in_ns softflowctl -c "$WORK/src.ctl" shutdown >/dev/null
    wait "$sf" || true
    sleep 0.5
    stop "$NFCAPD_PID"
  fi
  local file; file=$(ls "$src"/nfcapd.2* | head -1)
  start_tcpdump "$name" 2055
  start_nfcapd "$WORK/$name.nf" 2055
  in_ns nfreplay -v "$version" -H 127.0.0.1 -p 2055 -d 1000 -r "$file" >"$WORK/$name.log" 2>&1
  sleep 0.5
  stop "$NFCAPD_PID"
  finish "$name"
  nfdump_json "$WORK/$name.nf" "$name"
  reference "$name" "$kind" 2055 "nfreplay -v $version -H 127.0.0.1 -p 2055 -d 1000 -r nfcapd.<softflowd -v 9 export>"
}

nfreplay_capture nfreplay_v5 5 netflow5
nfreplay_capture nfreplay_v9 9 netflow9

echo "==> captures in $OUT, references in $REF"
