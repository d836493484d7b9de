#!/bin/bash
# Proves the README's install on a fresh Debian 12: builds a clean root with mmdebstrap
# (--variant=buildd: Essential packages and build-essential, nothing else), and in a chroot
# there, with only what the README says:
#   tools/setup.sh --netns NAME   apt-get build-dep ./ (debian/control's Build-Depends: a
#                                 missing one fails the build), dpkg-buildpackage, apt-get
#                                 install of the packages, vigild in a try namespace
# then checks that vigilctl status talks to that vigild over the system bus, vigilctl --help,
# man vigilctl, bash completion of `vigilctl <TAB>`, lintian on the built packages (no errors,
# no warnings), and that `tools/setup.sh --uninstall` + `apt-get purge vigil vigil-tray`
# leave nothing of Vigil behind.
#
#   tools/check-fresh-install.sh [--keep] [--mirror URL]
#
# Run as root; needs mmdebstrap and network access to the Debian mirror. Takes 15-30
# minutes. The root lives under /var/tmp and is removed afterwards (--keep keeps it, with
# nothing mounted); every mount is undone, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=0
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1; shift ;;
    --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "check-fresh-install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "check-fresh-install.sh: run as root" >&2
  exit 1
fi
if ! command -v mmdebstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap
fi

work=$(mktemp -d /var/tmp/vigil-fresh.XXXXXX)
root=$work/root
netns=vigilfresh$$
start=$(date +%s)

# every mount below $root, deepest first (nsfs mounts of ip netns, /dev's submounts, ...)
mounts_below() {
  awk -v r="$root" '$5 == r || index($5, r "/") == 1 {print $5}' /proc/self/mountinfo |
    sort -r
}

cleanup() {
  local m
  set +e
  if [ -d "$root" ]; then
    # the try namespaces and their processes (web server, vigild), if a step failed
    for ns in "$netns" "$netns-peer"; do
      chroot "$root" ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
      chroot "$root" ip netns del "$ns" 2>/dev/null
    done
    [ -n "${dbus_pid:-}" ] && kill "$dbus_pid" 2>/dev/null
    for _ in 1 2 3; do
      for m in $(mounts_below); do umount "$m" 2>/dev/null || umount -l "$m"; done
      [ -z "$(mounts_below)" ] && break
      sleep 1
    done
    if [ -n "$(mounts_below)" ]; then
      echo "check-fresh-install.sh: still mounted, $work NOT removed:" >&2
      mounts_below >&2
      return
    fi
  fi
  if [ "$keep" = 1 ]; then
    echo "kept: $root (nothing mounted)"
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

step() { printf '\n=== %s (%ds)\n' "$*" $(($(date +%s) - start)); }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb "$@"; }

step "a clean Debian 12 root (mmdebstrap --variant=buildd)"
mmdebstrap --variant=buildd bookworm "$root" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main"

# the root a mount point of its own, as on a real machine (ip netns exec remounts it)
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"

# the source as a fresh clone has it: the files git knows (committed or not), no build dirs
mkdir -p "$root/src/vigil"
git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C "$root/src/vigil"

# what a standard Debian 12 has (priority important/standard): iproute2, dbus, man-db,
# bash-completion; iptables because this machine's kernel lacks nftables' queue statement
# (vigild falls back to iptables; users' kernels have it, and the package needs only nftables)
step "a standard system: iproute2 dbus man-db bash-completion (+ iptables for this kernel)"
in_root apt-get update -q
in_root apt-get install -y -q iproute2 dbus man-db bash-completion iptables
# the system bus, as a running machine has it (vigild joins it when it starts)
mkdir -p "$root/run/dbus"
in_root dbus-daemon --system --fork --print-pid >"$work/dbus.pid"
dbus_pid=$(cat "$work/dbus.pid")

step "the README's install command: tools/setup.sh --netns $netns"
in_root sh -c "cd /src/vigil && tools/setup.sh --netns $netns"
build_done=$(date +%s)

step "vigild runs and answers on the system bus"
in_root vigilctl status
in_root setpriv --reuid=65534 --regid=65534 --clear-groups vigilctl status
in_root ip netns exec "$netns" bash -c 'exec 3<>/dev/tcp/10.203.0.2/80'
# the decision is logged (vigild writes its log lines in batches)
for _ in $(seq 50); do
  grep -q 'allow program=.*/usr/bin/bash .*dst=10.203.0.2 port=80' \
    "$root/var/log/vigild-$netns.log" && break
  sleep 0.1
done
grep 'allow program=.*/usr/bin/bash .*dst=10.203.0.2 port=80' "$root/var/log/vigild-$netns.log"

step "vigilctl --help, man vigilctl, man vigild.conf, man -L de/fr vigilctl"
in_root vigilctl --help | grep -q 'Commands:'
in_root env MANWIDTH=80 man vigilctl | grep -q 'vigilctl - control vigild'
in_root env MANWIDTH=80 man 5 vigild.conf | grep -q 'FailMode'
in_root env MANWIDTH=80 man 5 vigil.rules | grep -q 'PRECEDENCE'
in_root env MANWIDTH=80 man 8 vigild | grep -q 'SIGHUP'
# the translated pages, as `man` finds them for a German or French user
in_root env MANWIDTH=80 man -L de vigilctl | grep -q 'Anwendungs-Firewall'
in_root env MANWIDTH=80 man -L fr vigilctl | grep -q 'pare-feu applicatif'

# setup.sh installs vigil-tray only where a desktop session is installed; here by hand
# (without its Recommends: an AppIndicator host would pull a desktop in)
step "vigil-tray: installs, --help, man vigil-tray"
in_root sh -c 'apt-get install -y -q --no-install-recommends /src/vigil/build-deb/vigil-tray_*.deb'
in_root vigil-tray --help | grep -q -- '--display'
in_root env MANWIDTH=80 man vigil-tray | grep -q 'vigil-tray - '
test -f "$root/etc/xdg/autostart/org.vigil.Tray.desktop"

step "bash completion: vigilctl <TAB>, vigilctl rules <TAB>"
completion='
  source /usr/share/bash-completion/bash_completion
  _completion_loader vigilctl
  complete -p vigilctl
  COMP_WORDS=(vigilctl st); COMP_CWORD=1; COMP_LINE="vigilctl st"; COMP_POINT=11
  _vigilctl vigilctl st vigilctl; echo "${COMPREPLY[*]}"
  COMP_WORDS=(vigilctl rules ""); COMP_CWORD=2; COMP_LINE="vigilctl rules "; COMP_POINT=15
  _vigilctl vigilctl "" rules; echo "${COMPREPLY[*]}"'
out=$(in_root bash -c "$completion")
echo "$out"
grep -qx 'status' <<<"$(sed -n 2p <<<"$out")"
grep -q 'import' <<<"$(sed -n 3p <<<"$out")"

step "lintian on the built packages"
in_root apt-get install -y -q --no-install-recommends lintian
in_root sh -c 'cd /src/vigil/build-deb && lintian --fail-on error,warning --info \
  vigil_*.changes'

step "tools/setup.sh --uninstall --netns $netns; apt-get purge vigil vigil-tray"
in_root sh -c "cd /src/vigil && tools/setup.sh --uninstall --netns $netns"
test ! -e "$root/usr/sbin/vigild"
test ! -e "$root/usr/bin/vigil-tray"
test -e "$root/etc/vigil/vigild.conf"   # remove keeps the configuration
in_root apt-get purge -y -q vigil vigil-tray
left=$(cd "$root" && find etc usr lib var -xdev \( -path var/log -o -path var/cache \) -prune \
  -o \( -iname '*vigil*' -print \))
if [ -n "$left" ]; then
  echo "left behind after purge:" >&2
  echo "$left" >&2
  exit 1
fi
for ns in "$netns" "$netns-peer"; do
  if in_root ip netns list | grep -qw "$ns"; then echo "namespace $ns left behind" >&2; exit 1; fi
done

step "done: build and install $((build_done - start))s, total"
echo "check-fresh-install.sh: OK"
