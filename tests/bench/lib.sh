# shellcheck shell=bash
# lib.sh: what the benchmarks share, sourced by run-bench.sh and run-dns-bench.sh.
#
# Two network namespaces, a and b, joined by a veth pair, made here and deleted on exit
# together with the programs started in them (their pids in PIDS); a work directory, kept
# when asked (-k) or when the run failed. The machine's own namespace is never touched.
# The caller sets BENCH (its name, for messages and paths), ADDR_A, ADDR_B, QUEUE and KEEP,
# then calls bench_init after its own checks.

die() {
	echo "$BENCH: $*" >&2
	exit 1
}

bench_cleanup() {
	local status=$?
	local pid

	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	# deleting the namespaces takes their veth ends and netfilter rules with them
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	# the benchmark's own cgroup (run-bench.sh: vigild's eBPF programs attach there)
	if [[ -n ${CGROUP:-} && -d $CGROUP ]]; then
		rmdir "$CGROUP" 2>/dev/null || echo "$BENCH: cannot remove $CGROUP" >&2
	fi
	# a failed run keeps its logs: the error message points into them
	if [[ $KEEP -eq 1 || $status -ne 0 ]]; then
		echo "$BENCH: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$status"
}

# unique names: several runs (or meson's parallel tests) may share the machine
bench_init() {
	NS_A=$BENCH-$$-a
	NS_B=$BENCH-$$-b
	VETH_A=vb$$a
	VETH_B=vb$$b
	WORK=$(mktemp -d "/tmp/vigil-$BENCH.XXXXXX")
	PIDS=()
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

# for background jobs, call `ip netns exec` directly, never through these functions:
# `func &` forks a subshell, and $! would be the subshell's pid, not the program's
in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget_pid "$1"
}

setup_network() {
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	# created inside a, its peer straight into b: the veth never exists in our namespace
	ip -n "$NS_A" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NS_B"
	ip -n "$NS_A" addr add "$ADDR_A/24" dev "$VETH_A"
	ip -n "$NS_B" addr add "$ADDR_B/24" dev "$VETH_B"
	ip -n "$NS_A" link set "$VETH_A" up
	ip -n "$NS_B" link set "$VETH_B" up
}

# "id_sequence" of queue $QUEUE in namespace a: how many packets it has queued, or "" if unbound
# shellcheck disable=SC2016 # an awk program, not a shell expansion
queue_sequence() {
	in_a awk -v q="$QUEUE" '$1 == q { print $8 }' /proc/net/netfilter/nfnetlink_queue
}

# waits until queue $QUEUE is bound, while process $1 lives
wait_queue_bound() {
	local pid=$1

	for _ in $(seq 200); do
		[[ -n $(queue_sequence) ]] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
