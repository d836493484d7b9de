#!/bin/bash
# Runs the eBPF unit test (tests/test-ebpf: vigild's programs through the verifier, attached to
# a cgroup of the test's own, their records checked) on Debian 12's own kernel, booted in qemu
# (software emulation: no KVM is needed). This machine's kernel is not the one Debian 12 users
# run; what the verifier accepts differs between kernels.
#
#   tools/check-bpf-kernel.sh [-B BUILD_DIR] [--kernel-deb FILE]
#
# Needs: qemu-system-x86, busybox-static, cpio, apt (to fetch the kernel package). Nothing of
# this machine is changed: the kernel is unpacked into a temporary directory, the guest sees
# only an initramfs made here, and it powers off at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
kernel_deb=
while [ $# -gt 0 ]; do
  case $1 in
    -B) build=$2; shift 2 ;;
    --kernel-deb) kernel_deb=$2; shift 2 ;;
    *) echo "usage: $0 [-B BUILD_DIR] [--kernel-deb FILE]" >&2; exit 2 ;;
  esac
done

test_bin=$build/tests/test-ebpf
# the verdict programs (docs/ebpf-verdicts.md) are a test of their own
verdicts_bin=$build/tests/test-ebpf-verdicts
for bin in "$test_bin" "$verdicts_bin"; do
  [ -x "$bin" ] || { echo "check-bpf-kernel: no $bin (build first)" >&2; exit 1; }
done
for tool in qemu-system-x86_64 busybox cpio; do
  command -v "$tool" >/dev/null || { echo "check-bpf-kernel: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/vigil-bpf-kernel-XXXXXX)
trap 'rm -rf "$work"' EXIT

# Debian 12's kernel: the one linux-image-amd64 depends on, from the archive
if [ -z "$kernel_deb" ]; then
  image=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
  [ -n "$image" ] || { echo "check-bpf-kernel: apt knows no linux-image-amd64" >&2; exit 1; }
  (cd "$work" && apt-get download "$image" >/dev/null 2>&1) \
    || { echo "check-bpf-kernel: apt-get download $image failed" >&2; exit 1; }
  kernel_deb=$(ls "$work"/linux-image-*.deb)
fi
dpkg-deb -x "$kernel_deb" "$work/kernel"
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-*)
version=${vmlinuz##*/vmlinuz-}

# the guest's root: busybox, the test and the libraries it links
root=$work/root
mkdir -p "$root"/{bin,proc,sys,dev,tmp,test}
cp /bin/busybox "$root/bin/"
for applet in sh mount mkdir poweroff cat echo ip; do ln -s busybox "$root/bin/$applet"; done
cp "$test_bin" "$root/test/test-ebpf"
cp "$verdicts_bin" "$root/test/test-ebpf-verdicts"
{ ldd "$test_bin"; ldd "$verdicts_bin"; } | grep -o '/[^ ]*' | sort -u | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cat > "$root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
ip link set lo up
echo "guest kernel: $(cat /proc/version)"
cd /tmp
/test/test-ebpf --tap
echo "test-ebpf exit status: $?"
/test/test-ebpf-verdicts --tap
echo "test-ebpf-verdicts exit status: $?"
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

echo "check-bpf-kernel: booting $version under qemu (software emulation)"
# no_timer_check: under software emulation on a loaded machine the guest's timer check can
# miss its ticks and panic at boot ("IO-APIC + timer doesn't work"), which says nothing of
# the eBPF programs
log=$work/console.log
timeout 900 qemu-system-x86_64 -m 1024 -smp 2 -nographic -no-reboot \
  -kernel "$vmlinuz" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet no_timer_check G_DEBUG=fatal-criticals" \
  </dev/null >"$log" 2>&1 || true
tr -d '\r' < "$log" | sed -n '/^guest kernel:/,$p'
status=$(tr -d '\r' < "$log" | sed -n 's/^test-ebpf exit status: \([0-9]*\)$/\1/p')
verdicts_status=$(tr -d '\r' < "$log" | sed -n 's/^test-ebpf-verdicts exit status: \([0-9]*\)$/\1/p')
if [ "$status" != 0 ] || [ "$verdicts_status" != 0 ]; then
  echo "check-bpf-kernel: test-ebpf on $version: ${status:-no result}," \
    "test-ebpf-verdicts: ${verdicts_status:-no result} (console log above)" >&2
  tr -d '\r' < "$log" | tail -40 >&2
  exit 1
fi
if tr -d '\r' < "$log" | grep -q '^not ok'; then
  echo "check-bpf-kernel: a test failed on $version" >&2
  exit 1
fi
echo "check-bpf-kernel: OK on $version"
