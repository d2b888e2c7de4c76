#!/usr/bin/env bash
# Installs every Debian package the build, the tests and the lab need, and
# only those that are missing. Safe to run again: a second run installs nothing.
#
#   deploy/install-deps.sh          build, tests, lab
#   deploy/install-deps.sh --bench  also what tests/bench/ compares against and
#                                   profiles with: Kamailio and its IMS modules
#                                   (side-by-side runs), linux-perf, gdb
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries
  libfreediameter-dev freediameter-extensions libmicrohttpd-dev libsqlite3-dev
  libcmocka-dev libxml2-dev libjansson-dev libssl-dev libyaml-dev libevent-dev
  libjemalloc-dev
  # comparison in the parser benchmark
  libosip2-dev
  # tests and lab
  sip-tester curl sqlite3 libxml2-utils openssl iproute2 procps python3 valgrind
)
if [ "${1:-}" = "--bench" ]; then
  PKGS+=(
    # the reference Kamailio proxy and IMS chain (../shared/reference/)
    kamailio kamailio-ims-modules kamailio-sqlite-modules kamailio-presence-modules
    kamailio-extra-modules kamailio-utils-modules sipsak sysstat
    # profiles in docs/PERFORMANCE.md; gdb: heap figures of scscf_register.sh mem
    linux-perf gdb
  )
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
