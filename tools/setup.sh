#!/bin/bash
# Builds Vigil's Debian packages and installs them, so that `apt-get remove vigil` (or
# `purge`) undoes it. Run as root on Debian 12 (no sudo needed).
#   tools/setup.sh                 filter this machine: with systemd the package enables and
#                                  starts vigild.service; without systemd vigild is started here
#   tools/setup.sh --netns NAME    try it confined to network namespace NAME (created if
#                                  missing), with a web server at 10.203.0.2 in NAME-peer: the
#                                  machine's own traffic is not touched (vigild.service is
#                                  installed but neither enabled nor started);
#                                  run programs there with `ip netns exec NAME CMD`
#   tools/setup.sh --uninstall [--netns NAME]
#                                  stop vigild and remove the packages (configuration and
#                                  learned rules are kept; `apt-get purge vigil` removes them),
#                                  and the namespaces NAME and NAME-peer with their processes
# The packages are left in build-deb/.
set -euo pipefail
cd "$(dirname "$0")/.."

netns=""
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --netns) netns=${2:?--netns needs a name}; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (e.g. su -c tools/setup.sh)" >&2
  exit 1
fi

has_systemd() { [ -d /run/systemd/system ]; }
pidfile() { echo "/run/vigil-try-$1.pid"; }

# the vigild of a try namespace, started by an earlier run of this script
stop_try_vigild() {
  local pf
  pf=$(pidfile "$1")
  if [ -f "$pf" ]; then
    # vigild removes its own netfilter rules on SIGTERM
    start-stop-daemon --stop --quiet --oknodo --retry TERM/10 --pidfile "$pf" \
      --exec /usr/sbin/vigild || true
    rm -f "$pf"
  fi
}

remove_netns() {
  local ns
  stop_try_vigild "$1"
  for ns in "$1" "$1-peer"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

if [ "$uninstall" = 1 ]; then
  [ -n "$netns" ] && remove_netns "$netns"
  # the package's prerm stops vigild (the service, or one started by hand)
  pkgs=$(dpkg-query -W -f='${Package} ${Status}\n' vigil vigil-tray 2>/dev/null |
    awk '/ installed$/ {print $1}')
  # shellcheck disable=SC2086
  [ -z "$pkgs" ] || apt-get remove -y -q $pkgs
  echo "Vigil removed. /etc/vigil and the learned rules in /var/lib/vigil are kept;"
  echo "apt-get purge vigil removes them too."
  exit 0
fi

# the build dependencies are debian/control's Build-Depends: no list of our own here
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential dpkg-dev
apt-get build-dep -y -q --no-install-recommends ./
dpkg-buildpackage -us -uc -b

version=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
mkdir -p build-deb
for f in vigil_"$version"_"$arch".{deb,buildinfo,changes} vigil-tray_"$version"_"$arch".deb \
    vigil-dbgsym_"$version"_"$arch".deb vigil-tray-dbgsym_"$version"_"$arch".deb; do
  if [ -e "../$f" ]; then mv -f "../$f" build-deb/; fi
done
debs=("./build-deb/vigil_${version}_${arch}.deb")
# the tray where a desktop is installed (it pulls GTK)
if compgen -G '/usr/share/xsessions/*.desktop' >/dev/null ||
   compgen -G '/usr/share/wayland-sessions/*.desktop' >/dev/null; then
  debs+=("./build-deb/vigil-tray_${version}_${arch}.deb")
fi

policy_rc=""
if [ -n "$netns" ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  # try mode: the package must not start vigild for the whole machine
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  policy_rc=/usr/sbin/policy-rc.d
  trap 'rm -f "$policy_rc"' EXIT
fi
# a vigild.conf changed by vigilctl config or by hand is kept; Recommends (polkitd) too
apt-get install -y -q --reinstall \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${debs[@]}"

if [ -n "$netns" ]; then
  if has_systemd; then
    # not at boot either, and no D-Bus activation (its alias goes with the enablement)
    systemctl disable --now vigild.service
  fi
  # NAME, where vigild filters, and NAME-peer, a stand-in "internet" with a web server,
  # joined by a veth pair: nothing of this reaches the machine's own namespace
  peer="$netns-peer"
  if ! ip netns list | grep -qw "$netns"; then
    ip netns add "$netns"
    ip netns add "$peer"
    ip -n "$netns" link set lo up
    ip -n "$peer" link set lo up
    ip -n "$netns" link add vigil0 type veth peer name vigil1 netns "$peer"
    ip -n "$netns" addr add 10.203.0.1/24 dev vigil0
    ip -n "$peer" addr add 10.203.0.2/24 dev vigil1
    ip -n "$netns" link set vigil0 up
    ip -n "$peer" link set vigil1 up
    ip netns exec "$peer" setsid python3 -m http.server 80 --bind 10.203.0.2 \
      >/dev/null 2>&1 </dev/null &
  fi
  stop_try_vigild "$netns"
  log=/var/log/vigild-$netns.log
  : >"$log"
  ip netns exec "$netns" setsid /usr/sbin/vigild --foreground >>"$log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$netns")"
  # ready when vigild filters and the web server answers (asked from its own namespace,
  # so the check is no connection vigild has to decide)
  for _ in $(seq 100); do
    if grep -q 'filtering:' "$log" &&
       ip netns exec "$peer" bash -c 'exec 3<>/dev/tcp/10.203.0.2/80' 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  if ! grep -q 'filtering:' "$log"; then
    echo "setup.sh: vigild did not start; its log, $log:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  if ! ip netns exec "$peer" bash -c 'exec 3<>/dev/tcp/10.203.0.2/80' 2>/dev/null; then
    echo "setup.sh: the web server in $peer does not answer" >&2
    exit 1
  fi
  echo "vigild runs in network namespace $netns; decisions are logged to $log."
  echo "Try:  ip netns exec $netns curl http://10.203.0.2/"
  echo "Stop: tools/setup.sh --uninstall --netns $netns"
elif has_systemd; then
  # the package enabled and started vigild.service
  if ! systemctl is-active --quiet vigild.service; then
    echo "setup.sh: vigild.service is not running; see: journalctl -u vigild" >&2
    exit 1
  fi
  echo "vigild is running: journalctl -u vigild -f shows each decision."
else
  # no systemd: nothing starts vigild at boot; start it now
  start-stop-daemon --start --oknodo --background --make-pidfile --pidfile /run/vigild.pid \
    --exec /usr/sbin/vigild
  echo "vigild started (no systemd here, so not at boot): decisions go to syslog."
fi
