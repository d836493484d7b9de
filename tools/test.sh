#!/bin/bash
# Installs what the tests need, builds Vigil twice (strict -Werror, and AddressSanitizer +
# UBSan) and runs every test in both builds. Run as root on Debian 12: the end-to-end tests
# create network namespaces. With CI=true a skipped test fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "tools/test.sh: run as root (sudo tools/test.sh): the tests create network namespaces" >&2
  exit 1
fi

# What the build needs is debian/control's Build-Depends (one list, also for tools/setup.sh
# and the Debian package): `apt-get build-dep ./` installs it. What only the tests need
# (namespaces, a private D-Bus, Xvfb, the linters and fuzzers) is listed here: the package
# build runs no tests, so these are no build dependencies.
TEST_PACKAGES="build-essential dpkg-dev
  iptables nftables iproute2 conntrack curl iputils-ping util-linux procps tcpdump
  python3 python3-gi clang-format systemd dbus python3-dbusmock libxml2-utils polkitd
  dnsmasq-base clang libclang-rt-14-dev
  xvfb xauth imagemagick xdotool at-spi2-core gir1.2-atspi-2.0 gir1.2-gtk-3.0 weston
  appstream
  publicsuffix mandoc man-db bash-completion zsh
  qemu-system-x86 busybox-static cpio"
if [ "${VIGIL_SKIP_APT:-}" != 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  missing=$(for p in $TEST_PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done)
  build_deps_ok=1
  command -v dpkg-checkbuilddeps >/dev/null && dpkg-checkbuilddeps >/dev/null 2>&1 || build_deps_ok=0
  if [ -n "$missing" ] || [ "$build_deps_ok" = 0 ]; then
    # tests start every service they need themselves: packages must not start any
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod +x /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -q
    [ "$build_deps_ok" = 1 ] || apt-get build-dep -y -q --no-install-recommends ./
    # shellcheck disable=SC2086
    [ -z "$missing" ] || apt-get install -y -q --no-install-recommends $missing
  fi
fi

run_suite() {
  local dir=$1; shift
  if [ ! -d "$dir" ]; then
    meson setup "$dir" -Dwerror=true "$@"
  else
    meson configure "$dir" -Dwerror=true "$@"
  fi
  ninja -C "$dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 || return 1
  if [ "${CI:-}" = true ]; then
    # a skipped test is a gap, not a pass
    /usr/bin/python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
skipped = [t["name"] for t in map(json.loads, open(sys.argv[1])) if t["result"] == "SKIP"]
if skipped:
    sys.exit("skipped under CI=true: " + ", ".join(skipped))
PY
  fi
}

failed_steps=()
# Remembers a failed step; the summary at the end names it, so the last lines of a long log
# (all a CI tail shows) say what failed.
step() {
  local name=$1; shift
  "$@" || failed_steps+=("$name")
}

failed_tests() {
  local log=$1/meson-logs/testlog.json
  [ -f "$log" ] || return 0
  /usr/bin/python3 - "$log" <<'PY'
import json, sys
bad = [t["name"] + " (" + t["result"] + ")" for t in map(json.loads, open(sys.argv[1]))
       if t["result"] not in ("OK", "EXPECTEDFAIL")]
for name in bad:
    print("    " + name)
PY
}

step "tests, -Werror build" run_suite build
# the eBPF programs on Debian 12's own kernel (in qemu): a few minutes, so in CI or on request
if [ "${CI:-}" = true ] || [ "${VIGIL_BPF_KERNEL:-}" = 1 ]; then
  step "eBPF on Debian 12's kernel" tools/check-bpf-kernel.sh -B build
fi
step "tests, ASan+UBSan build" run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false
# the parsers of untrusted input, fuzzed for a bounded time with the sanitizers
step "fuzzers" tests/fuzz/run-fuzzers.sh -B build-fuzz -t "${FUZZ_SECONDS:-30}"
# CI: the README's install on a clean Debian 12 root (mmdebstrap; 15-30 minutes)
if [ "${CI:-}" = true ]; then
  step "fresh install" tools/check-fresh-install.sh
fi

echo "=== tools/test.sh summary"
if [ ${#failed_steps[@]} = 0 ]; then
  echo "all steps passed"
  exit 0
fi
for name in "${failed_steps[@]}"; do
  echo "FAILED: $name"
  case $name in
    "tests, -Werror build") failed_tests build ;;
    "tests, ASan+UBSan build") failed_tests build-asan ;;
  esac
done
exit 1
