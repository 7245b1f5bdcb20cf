#!/usr/bin/env bash
# Regenerate the golden captures (tests/golden/captures/*.pcap) with REAL exporters, and their
# reference records (tests/golden/reference/*.json) from INDEPENDENT decoders (tshark, nfdump).
# Run by `./build.sh captures`. Needs root (a private network namespace) and the Debian packages
# softflowd, pmacct, nfdump, tshark, tcpdump, iproute2.
#
# How: scripts/captures/make_input_pcap.py writes a synthetic AI-cluster traffic pcap (seeded, so the
# same bytes every run). Each exporter meters that file and exports to a UDP sink on 127.0.0.1
# inside a private network namespace (its own loopback: no other traffic, no port clashes), while
# tcpdump records the export datagrams. softflowd (-a) takes every time from the input, so its
# records are the same each run; pmacct and nfreplay stamp headers with the wall clock and sfprobe
# samples at random, so those captures change - the reference is regenerated with them.
#
# Reference phase (also alone: --reference-only, from the committed captures): tshark decodes each
# capture; for NetFlow/IPFIX the capture is also replayed (scripts/captures/replay_udp.py) into
# nfcapd and read back with nfdump. scripts/captures/reference.py stores both decoders' records.
#
# usage: scripts/make_captures.sh [--reference-only] [NAME ...]     (default: every capture)
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
# Not a function: `$IN_NS cmd &` must leave $! = the command itself (ip netns exec execs it), so that
# kill reaches it.
IN_NS="ip netns exec $NS"

mkdir -p "$OUT" "$REF"
"$PY" "$HELPERS/make_input_pcap.py" "$WORK/input.pcap"

# --- building blocks ---------------------------------------------------------------------------

# start_tcpdump NAME PORT: record export datagrams to PORT on the namespace's loopback.
#   -U write each packet at once, -Z root keep file ownership, -s 0 whole datagrams.
start_tcpdump() {
  local name=$1 port=$2
  $IN_NS tcpdump -i lo -s 0 -U -Z root -w "$WORK/$name.pcap" "udp dst port $port" 2>"$WORK/$name.tcpdump.log" &
  TCPDUMP_PID=$!; PIDS+=("$TCPDUMP_PID")
  for _ in $(seq 50); do grep -q "listening on" "$WORK/$name.tcpdump.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "tcpdump did not start for $name" >&2; return 1
}

# start_nfcapd DIR PORT: nfdump's collector. -w output dir, -b/-p bind address and port,
# -t 3600 one file per hour (no rotation during a run), -S 0 no sub directories.
start_nfcapd() {
  mkdir -p "$1"
  $IN_NS nfcapd -w "$1" -b 127.0.0.1 -p "$2" -t 3600 -S 0 >"$1.log" 2>&1 &
  NFCAPD_PID=$!; PIDS+=("$NFCAPD_PID")
  sleep 0.5
}

# start_sink PORT: a UDP receiver that discards (so exporters get no ICMP port unreachable).
start_sink() {
  $IN_NS "$PY" -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', $1)); s.settimeout(15)
try:
    while True: s.recv(65535)
except OSError: pass" &
  SINK_PID=$!; PIDS+=("$SINK_PID")
  sleep 0.3
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# finish NAME: wait until tcpdump has written everything (the file stops growing; on a busy machine
# tcpdump may lag the exporter), stop it, install the capture - never an empty one.
finish() {
  local f=$WORK/$1.pcap last=-1 size
  for _ in $(seq 40); do
    sleep 0.5
    size=$(stat -c %s "$f")
    [ "$size" -gt 24 ] && [ "$size" -eq "$last" ] && break
    last=$size
  done
  stop "$TCPDUMP_PID"
  size=$(stat -c %s "$f")
  if [ "$size" -le 24 ]; then echo "make_captures.sh: $1: nothing captured (see $WORK/$1.log)" >&2; KEEP_WORK=1; exit 1; fi
  cp "$f" "$OUT/$1.pcap"
  echo "==> $1: $size bytes"
}

# register NAME KIND PORT COMMAND: remember what made the capture, for the reference phase.
register() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$WORK/manifest.tsv"; }

wanted() { [ ${#SELECTED[@]} -eq 0 ] && return 0; local n; for n in "${SELECTED[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
REFERENCE_ONLY=""
if [ "${1:-}" = "--reference-only" ]; then REFERENCE_ONLY=1; shift; fi
SELECTED=("$@")
: >"$WORK/manifest.tsv"

if [ -z "$REFERENCE_ONLY" ]; then
# --- softflowd ---------------------------------------------------------------------------------
# softflowd -r FILE  meter a pcap file instead of an interface
#   -v 5|9|10        export version (10 = IPFIX);  -b  RFC 5103 bidirectional records (IPFIX only)
#   -6               track IPv6 too (v9/IPFIX carry it; v5 cannot);  -s N  sample 1 packet in N
#   -a               take flow times from the file's packet times (not from the wall clock)
#   -n HOST:PORT     collector;  -d stay in the foreground;  -p/-c pid and control socket paths
#
# softflowd_drain PID CTL: in -r mode softflowd 1.1.0 runs its main loop only when something arrives
# on its control socket: the first request makes it read the whole file, a later one lets it see
# the end of the file, export every flow and exit. So: poke it with `statistics` until it exits
# (`shutdown`, which also exports everything, is the fallback).
softflowd_drain() {
  for _ in $(seq 50); do [ -S "$2" ] && break; sleep 0.1; done
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || break
    $IN_NS softflowctl -c "$2" statistics >/dev/null 2>&1 || true
    sleep 0.2
  done
  kill -0 "$1" 2>/dev/null && $IN_NS softflowctl -c "$2" shutdown >/dev/null 2>&1
  wait "$1" || true
}

softflowd_capture() {
  local name=$1 port=$2 kind=$3; shift 3
  wanted "$name" || return 0
  start_tcpdump "$name" "$port"
  start_sink "$port"
  local ctl=$WORK/$name.ctl
  # softflowd keeps only the first 16 characters of the -r path: run it from WORK.
  cd "$WORK"
  $IN_NS softflowd -r input.pcap "$@" -a -n "127.0.0.1:$port" -d -p "$WORK/$name.pid" -c "$ctl" \
    >"$WORK/$name.log" 2>&1 &
  local sf=$!; PIDS+=("$sf")
  softflowd_drain "$sf" "$ctl"
  cd "$ROOT"
  stop "$SINK_PID"
  finish "$name"
  register "$name" "$kind" "$port" "softflowd -r input.pcap $* -a -n 127.0.0.1:$port -d"
}

softflowd_capture softflowd_v5          2055 netflow5 -v 5
softflowd_capture softflowd_v9          2055 netflow9 -v 9 -6
softflowd_capture softflowd_ipfix       4739 ipfix    -v 10 -6
softflowd_capture softflowd_ipfix_bidir 4739 ipfix    -v 10 -6 -b
# -s 10: periodic 1-in-10 packet sampling (deterministic), announced in options data
softflowd_capture softflowd_v9_sampled  2055 netflow9 -v 9 -6 -s 10

# --- pmacct: pmacctd with the nfprobe (NetFlow v9 / IPFIX) and sfprobe (sFlow v5) plugins --------
# pmacctd reads the pcap (pcap_savefile), meters it and exits at its end, flushing the plugins.
# pre_tag_map sets tag / tag2 / label per traffic class: nfprobe exports them as pmacct enterprise
# IEs (PEN 43874), label as a variable-length string - the fields that break naive decoders.
# pmacct takes one set_* per line; label is exported as a variable-length string (pmacct sends it
# even when empty).
cat >"$WORK/pretag.map" <<'EOF'
set_tag=2049 filter='tcp port 2049'
set_tag=443 filter='tcp port 443'
set_tag2=53 filter='udp port 53'
set_label=storage_nfs filter='tcp port 2049'
set_label=https filter='tcp port 443'
EOF

pmacct_capture() {
  local name=$1 port=$2 kind=$3 conf=$4 summary=$5
  wanted "$name" || return 0
  printf '%s\n' "$conf" >"$WORK/$name.conf"
  start_tcpdump "$name" "$port"
  start_sink "$port"
  # -f config file; it runs in the foreground (daemonize: false) and exits after the file.
  # (pmacctd may exit non-zero after "no more plugins active"; only a timeout is a failure)
  local rc=0
  $IN_NS timeout 60 pmacctd -f "$WORK/$name.conf" >"$WORK/$name.log" 2>&1 || rc=$?
  [ "$rc" -ne 124 ] || { cat "$WORK/$name.log" >&2; return 1; }
  stop "$SINK_PID"
  finish "$name"
  register "$name" "$kind" "$port" "pmacctd -f $name.conf: $summary"
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

# sampling_rate 10: random 1-in-10 packet sampling; nfprobe announces the rate in options data.
pmacct_capture pmacct_ipfix_sampled 4739 ipfix "$PM_COMMON
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:4739
nfprobe_version: 10
nfprobe_engine: 8
sampling_rate: 10
$NF_AGG" "nfprobe_version 10, engine 8, sampling_rate 10 (random 1-in-10), same aggregate"

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
    cd "$WORK"
    $IN_NS softflowd -r input.pcap -v 9 -6 -a -n 127.0.0.1:9995 -d -p "$WORK/src.pid" -c "$WORK/src.ctl" >"$WORK/src.log" 2>&1 &
    local sf=$!; PIDS+=("$sf")
    softflowd_drain "$sf" "$WORK/src.ctl"
    cd "$ROOT"
    sleep 0.5
    stop "$NFCAPD_PID"
  fi
  local file; file=$(ls "$src"/nfcapd.2* | head -1)
  start_tcpdump "$name" 2055
  start_sink 2055
  $IN_NS nfreplay -v "$version" -H 127.0.0.1 -p 2055 -d 1000 -r "$file" >"$WORK/$name.log" 2>&1
  stop "$SINK_PID"
  finish "$name"
  register "$name" "$kind" 2055 "nfreplay -v $version -H 127.0.0.1 -p 2055 -d 1000 -r nfcapd.<softflowd -v 9 -6 export>"
}

nfreplay_capture nfreplay_v5 5 netflow5
nfreplay_capture nfreplay_v9 9 netflow9

fi   # capture phase

# --- reference phase -----------------------------------------------------------------------------
if [ -n "$REFERENCE_ONLY" ]; then
  # what made each committed capture is recorded in its reference file
  "$PY" - "$REF" >>"$WORK/manifest.tsv" <<'PYEOF'
import json, os, sys
for name in sorted(os.listdir(sys.argv[1])):
    if name.endswith(".json"):
        d = json.load(open(os.path.join(sys.argv[1], name)))
        print("\t".join([name[:-5], d["kind"], str(d["udp_port"]), d["exporter_command"]]))
PYEOF
fi

# nfdump's view: nfcapd (-w dir, -b/-p address and port, -t 3600 no rotation, -S 0 flat) receives
# the capture's datagrams again, then `nfdump -R dir -o json` prints every record (TZ=UTC: nfdump
# prints local time).
while IFS=$'\t' read -r name kind port command; do
  wanted "$name" || continue
  [ -f "$OUT/$name.pcap" ] || { echo "missing $OUT/$name.pcap" >&2; exit 1; }
  nfd=()
  if [ "$kind" != sflow5 ]; then   # nfdump cannot read sFlow: tshark alone there
    start_nfcapd "$WORK/$name.ref" "$port"
    $IN_NS "$PY" "$HELPERS/replay_udp.py" "$OUT/$name.pcap" 127.0.0.1 "$port" >/dev/null
    sleep 0.5
    stop "$NFCAPD_PID"
    TZ=UTC nfdump -R "$WORK/$name.ref" -o json -q >"$WORK/$name.nfdump.json"
    nfd=(--nfdump-json "$WORK/$name.nfdump.json")
  fi
  echo "==> reference $name"
  "$PY" "$HELPERS/reference.py" --capture "$OUT/$name.pcap" --kind "$kind" --port "$port" \
    --exporter-command "$command" "${nfd[@]}" --out "$REF/$name.json"
done <"$WORK/manifest.tsv"

echo "==> captures in $OUT, references in $REF"
echo "    next: ./build.sh golden (expected/*.jsonl follow the captures), then review git diff tests/golden"
