#!/bin/bash
# Installs Vigil's dependencies, builds and installs Vigil, and starts vigild.
#   sudo tools/setup.sh                 filter this machine (systemd service, or a background daemon)
#   sudo tools/setup.sh --netns NAME    try it confined to network namespace NAME (created if
#                                       missing): the machine's own traffic is not touched;
#                                       run programs there with `ip netns exec NAME CMD`
#   sudo tools/setup.sh --uninstall [--netns NAME]
#                                       stop vigild and remove what `meson install` put in place
#                                       (and the namespaces NAME and NAME-peer with their processes)
set -euo pipefail
cd "$(dirname "$0")/.."

netns=""
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --netns) netns=${2:?--netns needs a name}; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (sudo tools/setup.sh)" >&2
  exit 1
fi

has_systemd() { [ -d /run/systemd/system ]; }

stop_vigild() {
  if has_systemd && systemctl is-active --quiet vigild 2>/dev/null; then
    systemctl disable --now vigild
  fi
  # vigild removes its own netfilter rules on SIGTERM
  pkill -TERM -x vigild 2>/dev/null && sleep 1 || true
}

remove_netns() {
  local ns
  for ns in "$1" "$1-peer"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

if [ "$uninstall" = 1 ]; then
  stop_vigild
  [ -n "$netns" ] && remove_netns "$netns"
  [ -d build-release ] && ninja -C build-release uninstall
  echo "Vigil removed. Learned rules are kept in /var/lib/vigil (delete it to forget them)."
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends build-essential pkg-config meson ninja-build \
  gettext libglib2.0-dev libnetfilter-queue-dev libmnl-dev libpsl-dev publicsuffix libsystemd-dev \
  iptables nftables iproute2 conntrack dbus polkitd python3 \
  libgtk-3-dev libnotify-dev libayatana-appindicator3-dev

if [ ! -d build-release ]; then
  meson setup build-release --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
    --buildtype=release
fi
ninja -C build-release
meson install -C build-release --skip-subprojects
stop_vigild

if [ -n "$netns" ]; then
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
  log=/var/log/vigild-$netns.log
  ip netns exec "$netns" setsid /usr/sbin/vigild --foreground >>"$log" 2>&1 </dev/null &
  echo "vigild runs in network namespace $netns; decisions are logged to $log."
  echo "Try:  sudo ip netns exec $netns curl http://10.203.0.2/"
  echo "Stop: sudo tools/setup.sh --uninstall --netns $netns"
elif has_systemd; then
  systemctl daemon-reload
  systemctl enable --now vigild
  echo "vigild is running: journalctl -u vigild -f shows each decision."
else
  setsid /usr/sbin/vigild </dev/null >/dev/null 2>&1 &
  echo "vigild started (no systemd here): decisions go to syslog."
fi
