#!/usr/bin/env bash
# Boundary Flow build entry point. Every command sets up what it needs on a fresh Debian machine.
#   ./build.sh            build both Splunk packages into dist/ and run AppInspect (= package)
#   ./build.sh demo       the main job: AI-cluster scenario -> real IPFIX over UDP -> collector
#   ./build.sh test       every test (what CI runs)
#   ./build.sh bench      benchmarks side by side with peers (README tables)
#   ./build.sh soak       long reliability runs (fuzzing >= 1M cases per decoder, soak)
#   ./build.sh captures   regenerate the golden captures with real exporters
#   ./build.sh golden     regenerate golden expected JSON (review the diff)
#   ./build.sh setup      only set up (.venv, Debian tools)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=$ROOT/.venv

# Debian packages: real exporters and independent decoders for tests, node for dashboards.
APT_PACKAGES="python3 python3-venv python3-dev gcc openssl strace softflowd pmacct nfdump tshark tcpdump iproute2 nodejs npm"

need_apt() {
  local missing=""
  for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  # python3 may come from elsewhere (pyenv); do not insist on Debian's then.
  if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing=$(echo "$missing" | sed -e 's/ python3-venv//' -e 's/ python3-dev//' -e 's/ python3\b//')
  fi
  command -v node >/dev/null && command -v npm >/dev/null && missing=$(echo "$missing" | sed -e 's/ nodejs//' -e 's/ npm//')
  echo "$missing"
}

setup_apt() {
  local missing; missing=$(need_apt)
  [ -z "${missing// /}" ] && return 0
  echo "==> installing Debian packages:$missing"
  local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

setup_venv() {
  local stamp_src; stamp_src=$( { cat requirements-dev.txt pyproject.toml package/lib/requirements.txt 2>/dev/null || true; } | sha256sum | cut -c1-16)
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$VENV/.stamp" 2>/dev/null)" = "$stamp_src" ]; then return 0; fi
  echo "==> setting up $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade "pip==25.3"
  "$VENV/bin/python" -m pip install -q -r requirements-dev.txt
  "$VENV/bin/python" -m pip install -q --no-deps -e .
  echo "$stamp_src" > "$VENV/.stamp"
}

# MaxMind's official test databases (GeoIP2-City-Test, GeoLite2-ASN-Test, corrupt samples) from the
# maxminddb sdist on PyPI: enrichment tests and the demo's geography use them.
setup_test_data() { bash scripts/fetch_test_data.sh >/dev/null; }

setup() { setup_apt; setup_venv; export PATH="$VENV/bin:$PATH"; setup_test_data; }

cmd=${1:-package}; shift || true
case "$cmd" in
  setup)    setup ;;
  test)     setup; exec bash scripts/test.sh "$@" ;;
  demo)     setup; exec "$VENV/bin/boundaryflow" demo "$@" ;;
  package)  setup; exec bash scripts/package.sh "$@" ;;
  bench)    setup; exec "$VENV/bin/python" benchmarks/run.py "$@" ;;
  soak)     setup; exec bash scripts/soak.sh "$@" ;;
  captures) setup; exec bash scripts/make_captures.sh "$@" ;;
  golden)   setup; exec "$VENV/bin/python" tests/golden/regenerate.py "$@" ;;
  *) echo "usage: ./build.sh [package|demo|test|bench|soak|captures|golden|setup]" >&2; exit 2 ;;
esac
