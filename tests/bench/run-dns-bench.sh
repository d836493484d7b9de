#!/bin/bash
# run-dns-bench.sh: the latency vigild adds to DNS lookups, against no vigild, as a ratio
#
# Usage (as root): tests/bench/run-dns-bench.sh [-B BUILD_DIR] [-n QUERIES] [-r ROUNDS] [-k]
#   -B  meson build directory (default: $VIGIL_BUILD, else BUILD next to this source tree)
#   -n  queries per measurement (default 5000, at most 45000)
#   -r  rounds; each round runs every case once, the table shows medians (default 5)
#   -k  keep the work directory (logs) for a look afterwards
# VIGILD=/path/to/vigild overrides $BUILD_DIR/daemon/vigild.
#
# Two network namespaces made here and deleted on exit, joined by a veth pair: a DNS server
# (dnsmasq) in b answers `bench.test` from memory; `dns-query` in a asks it, one query at a
# time, and times each answer. Nothing touches the machine's own namespace.
# Cases:
#   a  no vigild, a new socket per query (as the C library does: each lookup is a new flow)
#   b  a minimal NFQUEUE reader (nfq-accept) decides each new flow: the cost of any queue
#   c  vigild: each query's new flow decided by a rule, its answer read by the DNS watch
#   d  no vigild, one socket for all queries
#   e  vigild, one socket: after the first, only the DNS watch's copies are in the path
set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${VIGIL_BUILD:-$SRC_DIR/build}
COUNT=5000
ROUNDS=5
KEEP=0
WARMUP=200
ADDR_A=10.198.0.1
ADDR_B=10.198.0.2
NAMED=10.198.0.3
NAME=bench.test
QUEUE=0
FIRST_PORT=20000

while getopts "B:n:r:kh" opt; do
	case $opt in
	B) BUILD=$OPTARG ;;
	n) COUNT=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	k) KEEP=1 ;;
	*)
		sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
		exit 64
		;;
	esac
done

BUILD=$(cd "$BUILD" && pwd)
QUERY=$BUILD/tests/bench/dns-query
NFQ_ACCEPT=$BUILD/tests/bench/nfq-accept
PROBE=$BUILD/tests/clients/vigil-probe
VIGILD=${VIGILD:-$BUILD/daemon/vigild}

BENCH=run-dns-bench
# shellcheck source=tests/bench/lib.sh
. "$SRC_DIR/tests/bench/lib.sh"

[[ $COUNT -ge 1 && $COUNT -le 45000 ]] || die "-n must be 1 to 45000 (a source port per query)"
[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, netfilter inside them)"
for tool in ip iptables dnsmasq conntrack; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
for exe in "$QUERY" "$NFQ_ACCEPT" "$PROBE" "$VIGILD"; do
	[[ -x $exe ]] || die "$exe not built (ninja -C $BUILD tests/bench/dns-query tests/bench/nfq-accept tests/clients/vigil-probe daemon/vigild)"
done

bench_init

start_dns_server() {
	ip netns exec "$NS_B" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
		--bind-interfaces --listen-address="$ADDR_B" --pid-file= --user=nobody \
		--host-record="$NAME,$NAMED" --local-ttl=300 >"$WORK/dnsmasq.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		if in_a "$QUERY" "$ADDR_B" "$NAME" 1 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	die "dnsmasq in $NS_B did not answer (see $WORK/dnsmasq.log)"
}

# MEASURED: "p50_us p99_us queries_per_second failures"; $1: "one-socket" or "" (a socket
# per query, each from a port of its own, so every query is a new flow to conntrack)
measure() {
	local ports=${1:-$FIRST_PORT}

	in_a "$QUERY" "$ADDR_B" "$NAME" "$WARMUP" "$ports" >/dev/null || true
	# forget the warm-up's flows (and earlier cases'): no query may find one to reuse
	in_a conntrack -F >/dev/null 2>&1 || die "conntrack -F failed in $NS_A"
	MEASURED=$(in_a "$QUERY" "$ADDR_B" "$NAME" "$COUNT" "$ports") || die "dns-query failed: $MEASURED"
}

case_nfq_accept() {
	local pid

	ip netns exec "$NS_A" "$NFQ_ACCEPT" "$QUEUE" 2>>"$WORK/nfq-accept.log" &
	pid=$!
	PIDS+=("$pid")
	wait_queue_bound "$pid" || die "nfq-accept did not bind queue $QUEUE"
	in_a iptables -w -A OUTPUT -o "$VETH_A" -m conntrack --ctstate NEW -j NFQUEUE --queue-num "$QUEUE"
	measure ""
	in_a iptables -w -D OUTPUT -o "$VETH_A" -m conntrack --ctstate NEW -j NFQUEUE --queue-num "$QUEUE"
	stop_pid "$pid"
	RESULT="$MEASURED - -"
}

# vigild with a rule for the client; RESULT adds vigild's CPU time per query (us) and
# whether the DNS watch named the address afterwards
case_vigild() {
	local mode=$1 dir=$WORK/vigild-$2 pid ticks_before ticks_after hz named

	mkdir -p "$dir/rules.d"
	echo "allow app $(readlink -f "$QUERY") proto udp port 53" >"$dir/rules.d/50-bench.rules"
	echo "allow app $(readlink -f "$PROBE")" >>"$dir/rules.d/50-bench.rules"
	# /proc attribution: never eBPF programs on the machine's root cgroup from a benchmark
	printf '[Daemon]\nQueueNumber=%s\nDefaultAction=allow\nFailMode=open\nAttribution=queue\n' \
		"$QUEUE" >"$dir/vigild.conf"
	ip netns exec "$NS_A" "$VIGILD" --foreground --config "$dir/vigild.conf" \
		--rules-dir "$dir/rules.d" --learned-rules "$dir/learned.rules" >>"$dir/vigild.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_queue_bound "$pid" || die "vigild did not bind queue $QUEUE (see $dir/vigild.log)"
	for _ in $(seq 200); do
		grep -q "filtering:" "$dir/vigild.log" && break
		sleep 0.05
	done
	grep -q "watching DNS answers" "$dir/vigild.log" || die "vigild does not watch DNS (see $dir/vigild.log)"
	hz=$(getconf CLK_TCK)
	ticks_before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	measure "$mode"
	ticks_after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	# the answers did name the address: a connection to it carries the name
	in_a "$PROBE" udp "$NAMED" 9 --timeout 200 >/dev/null 2>&1 || true
	sleep 0.2
	named=no
	grep -q "dst=$NAMED host=$NAME " "$dir/vigild.log" && named=yes
	kill -0 "$pid" 2>/dev/null || die "vigild exited during the measurement (see $dir/vigild.log)"
	stop_pid "$pid"
	RESULT="$MEASURED $(awk -v t=$((ticks_after - ticks_before)) -v hz="$hz" -v n=$((COUNT + WARMUP)) \
		'BEGIN { printf "%.1f", t / hz * 1e6 / n }') $named"
}

main() {
	local round c

	setup_network
	start_dns_server
	echo "# $COUNT queries per measurement, $ROUNDS round(s), $(nproc) CPU(s), $(uname -r)"
	: >"$WORK/results"
	for round in $(seq "$ROUNDS"); do
		for c in a b c d e; do
			case $c in
			a) measure "" && RESULT="$MEASURED - -" ;;
			b) case_nfq_accept ;;
			c) case_vigild "" "c-$round" ;;
			d) measure one-socket && RESULT="$MEASURED - -" ;;
			e) case_vigild one-socket "e-$round" ;;
			esac
			echo "$c $RESULT" >>"$WORK/results"
			echo "round $round case $c: $RESULT" >&2
		done
	done
	report "$WORK/results"
}

# medians over rounds; each vigild case as a ratio to the case without it
report() {
	awk '
	function median(list,    n, v, i, j, t) {
		n = split(list, v, " ");
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
	}
	{
		c = $1; seen[c] = 1;
		p50[c] = p50[c] " " $2; p99[c] = p99[c] " " $3; qps[c] = qps[c] " " $4; fail[c] += $5;
		if ($6 != "-") cpu[c] = cpu[c] " " $6;
		if ($7 != "-") { named[c] = named[c] + ($7 == "yes"); rounds[c]++; }
	}
	END {
		name["a"] = "a new socket, no vigild"; base["a"] = "a";
		name["b"] = "b new socket, nfq-accept"; base["b"] = "a";
		name["c"] = "c new socket, vigild"; base["c"] = "a";
		name["d"] = "d one socket, no vigild"; base["d"] = "d";
		name["e"] = "e one socket, vigild"; base["e"] = "d";
		for (c in seen) { m50[c] = median(p50[c]); m99[c] = median(p99[c]); mq[c] = median(qps[c]); }
		printf "%-26s %7s %7s %8s %8s %8s %9s %8s\n", "case", "p50_us", "p99_us", "p50/base",
			"p99/base", "q/s", "cpu_us/q", "failures";
		split("a b c d e", order, " ");
		for (i = 1; i <= 5; i++) {
			c = order[i];
			if (!(c in seen)) continue;
			b = base[c];
			printf "%-26s %7d %7d %8s %8s %8d %9s %8d\n", name[c], m50[c], m99[c],
				c == b ? "-" : sprintf("%.2f", m50[c] / m50[b]),
				c == b ? "-" : sprintf("%.2f", m99[c] / m99[b]), mq[c],
				(c in cpu) ? sprintf("%.1f", median(cpu[c])) : "-", fail[c];
		}
		for (c in rounds)
			printf "# %s: the watched answers named the address in %d of %d rounds\n",
				name[c], named[c], rounds[c];
		printf "# base: the case without vigild using the same sockets (a for b and c, d for e)\n";
		printf "# cpu_us/q: vigild CPU time per query; c includes deciding each new flow\n";
	}' "$1"
}

main
