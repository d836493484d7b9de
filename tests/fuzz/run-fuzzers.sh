#!/bin/bash
# run-fuzzers.sh: builds the libFuzzer targets with clang and runs each for a bounded time
#
# Usage: tests/fuzz/run-fuzzers.sh [-B BUILD_DIR] [-t SECONDS] [-k] [TARGET...]
#   -B  the clang build directory (default: build-fuzz in the source tree; made if missing)
#   -t  seconds per target (default: $FUZZ_SECONDS, else 60)
#   -k  keep the work directory (new corpus entries, logs) for a look afterwards
# TARGETs default to all: fuzz-dns fuzz-dns-watch fuzz-rule fuzz-packet fuzz-dbus-args
#   fuzz-conntrack fuzz-capture.
#
# Each target starts from its seeds in tests/fuzz/corpus/TARGET (never written to) and runs
# with AddressSanitizer and UBSan. The script fails when any target crashes, leaks, trips a
# sanitizer or hangs on an input; that input is kept and named in the message.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$SRC_DIR/build-fuzz
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
KEEP=0
ALL_TARGETS=(fuzz-dns fuzz-dns-watch fuzz-rule fuzz-packet fuzz-dbus-args fuzz-conntrack
	fuzz-capture)

while getopts "B:t:kh" opt; do
	case $opt in
	B) BUILD=$OPTARG ;;
	t) SECONDS_PER_TARGET=$OPTARG ;;
	k) KEEP=1 ;;
	*)
		sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
		exit 64
		;;
	esac
done
shift $((OPTIND - 1))
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("${ALL_TARGETS[@]}")

die() {
	echo "run-fuzzers: $*" >&2
	exit 1
}

command -v clang >/dev/null || die "clang not found (apt-get install clang libclang-rt-14-dev)"
if [[ ! -d $BUILD ]]; then
	CC=clang meson setup "$BUILD" "$SRC_DIR" -Dfuzzing=true >/dev/null ||
		die "meson setup $BUILD failed"
else
	meson configure "$BUILD" -Dfuzzing=true >/dev/null ||
		die "$BUILD is not a clang build directory: remove it, or pass -B"
fi
ninja -C "$BUILD" "${TARGETS[@]/#/tests/fuzz/}" >/dev/null || die "building the fuzz targets failed"

WORK=$(mktemp -d /tmp/vigil-fuzz.XXXXXX)
failed=()
for target in "${TARGETS[@]}"; do
	seeds=$SRC_DIR/tests/fuzz/corpus/$target
	[[ -d $seeds ]] || die "no seed corpus at $seeds"
	mkdir -p "$WORK/$target"
	log=$WORK/$target.log
	echo "run-fuzzers: $target for ${SECONDS_PER_TARGET}s"
	# new inputs go into the work corpus; the committed seeds are only read
	if "$BUILD/tests/fuzz/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
		-rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$WORK/$target-" "$WORK/$target" "$seeds" >"$log" 2>&1; then
		grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" | tail -1 |
			sed "s/^/run-fuzzers: $target: /"
	else
		failed+=("$target")
		tail -40 "$log" >&2
		echo "run-fuzzers: $target FAILED; input: $(ls "$WORK/$target"-* 2>/dev/null | tr '\n' ' ')" >&2
	fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
	echo "run-fuzzers: failed: ${failed[*]} (work directory kept: $WORK)" >&2
	exit 1
fi
if [[ $KEEP -eq 1 ]]; then
	echo "run-fuzzers: work directory kept: $WORK"
else
	rm -rf "$WORK"
fi
echo "run-fuzzers: all ${#TARGETS[@]} target(s) ran ${SECONDS_PER_TARGET}s each without a finding"
