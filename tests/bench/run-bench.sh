#!/bin/bash
# run-bench.sh: added latency and connection rate of vigild against a minimal NFQUEUE reader
#
# Usage (as root): tests/bench/run-bench.sh [-B BUILD_DIR] [-n CONNECTIONS] [-r ROUNDS] [-k]
#   -B  meson build directory (default: $VIGIL_BUILD, else BUILD next to this source tree)
#   -n  connections per measurement (default 5000)
#   -r  rounds; each round runs every case once, the table shows medians (default 5)
#   -k  keep the work directory (logs, rules) for a look afterwards
#   -c  the cases to run, e.g. -c "b c h" (default: a b e c h g d f k l; the ratios need a and b)
# VIGILD=/path/to/vigild overrides $BUILD_DIR/daemon/vigild.
#
# Everything happens in two network namespaces made here and deleted on exit, joined by a
# veth pair; the machine's own namespace and its netfilter rules are never touched.
# Cases, all measured from namespace a with `vigil-probe tcp-many` against a server in b:
#   a  no queue
#   b  iptables NFQUEUE rule for new outbound connections + nfq-accept (accept everything)
#   c  vigild with one allow rule that matches the client (Attribution=queue: sock_diag + /proc)
#   g  as c with Attribution=ebpf: the kernel's record of the connecting task (eBPF programs
#      attached to a cgroup made for the run, which the client joins; never the root cgroup)
#   d  vigild with that rule among 10,000 rules that do not match the client
#   k  as g with KernelVerdicts=ebpf: after the warm-up's first connection (the queue), the
#      rule's verdict is in the kernel, and connections are decided at connect() without the
#      queue (docs/ebpf-verdicts.md); the "queued" line shows how many still went through it
#   l  as k with the rule among the 10,000 of d
#   h  as c with the history off (HistoryDays=0): c keeps every decision in history.db (the
#      default, 30 days), so c against h is what the history on disk costs per connection
#   e  as b, with nfq-accept --attribute: the minimal reader plus the system calls exact
#      attribution needs (sock_diag, one readlink of the owner's fd, one stat of its exe): the
#      floor for any firewall that knows the program, to tell attribution's cost from vigild's
#   f  fairness: vigild as in c; a long-lived client (known to vigild) makes one rule-decided
#      TCP connection, then another program (no rule, no agent) sends $FLOOD new UDP flows
#      from one socket and the client connects again at once, while vigild works through
#      them; $FLOOD_EACH times per round. Its own table: connect p50 with and without the
#      flood (target: at most 2x), how long the flood took to be decided and how much of it
#      reached the peer.
set -euo pipefail

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${VIGIL_BUILD:-$SRC_DIR/build}
COUNT=5000
ROUNDS=5
KEEP=0
CASES="a b e c h g d f k l"
WARMUP=300
PORT=8080
ADDR_A=10.199.0.1
ADDR_B=10.199.0.2
QUEUE=0
FILLER_RULES=10000
FLOOD=5000
FLOOD_EACH=${FLOOD_EACH:-5}
FLOOD_PORT=20000

while getopts "B:n:r:c:kh" opt; do
	case $opt in
	B) BUILD=$OPTARG ;;
	n) COUNT=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	k) KEEP=1 ;;
	c) CASES=$OPTARG ;;
	*)
		sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
		exit 64
		;;
	esac
done

BUILD=$(cd "$BUILD" && pwd)
PROBE=$BUILD/tests/clients/vigil-probe
NFQ_ACCEPT=$BUILD/tests/bench/nfq-accept
SERVER=$BUILD/tests/bench/accept-server
VIGILD=${VIGILD:-$BUILD/daemon/vigild}

BENCH=run-bench
# shellcheck source=tests/bench/lib.sh
. "$SRC_DIR/tests/bench/lib.sh"

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, iptables inside them)"
for tool in ip iptables; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
for exe in "$PROBE" "$NFQ_ACCEPT" "$SERVER"; do
	[[ -x $exe ]] || die "$exe not built (ninja -C $BUILD tests/clients/vigil-probe tests/bench/nfq-accept tests/bench/accept-server)"
done

bench_init
# a cgroup of the run's own, under the cgroup v2 mount: the client joins it, and case g's
# vigild attaches its eBPF programs to it (removed by bench_cleanup)
CGROUP=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
	/proc/self/mountinfo | head -1)
[[ -n $CGROUP ]] || die "no cgroup v2 hierarchy mounted"
CGROUP=$CGROUP/vigil-bench-$$
mkdir "$CGROUP"

# like in_a, in the run's cgroup before the command starts (its sockets are recorded there)
in_a_cg() { sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CGROUP" ip netns exec "$NS_A" "$@"; }

start_server() {
	ip netns exec "$NS_B" "$SERVER" "$ADDR_B" "$PORT" &
	PIDS+=($!)
	for _ in $(seq 100); do
		if in_a "$PROBE" tcp "$ADDR_B" "$PORT" --timeout 200 >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	die "server in $NS_B did not come up"
}

# CPU time of process $1 so far, all its threads, in nanoseconds (schedstat's first field)
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ ns += $1 } END { printf "%d", ns }'
}

# one measurement into MEASURED: "p50_us p99_us conns_per_sec failures packets_queued cpu_us"
# where cpu_us is the CPU time process $1 (the queue reader) spent per connection
# (cases set globals rather than print: a $(subshell) would hide its pids from cleanup)
measure() {
	local reader=${1:-} before after out cpu_before cpu_after cpu=-

	in_a_cg "$PROBE" tcp-many "$ADDR_B" "$PORT" "$WARMUP" >/dev/null || true
	before=$(queue_sequence)
	[[ -n $reader ]] && cpu_before=$(cpu_ns "$reader")
	out=$(in_a_cg "$PROBE" tcp-many "$ADDR_B" "$PORT" "$COUNT") || true
	[[ -n $reader ]] && cpu_after=$(cpu_ns "$reader")
	after=$(queue_sequence)
	[[ -n $out ]] || die "vigil-probe printed nothing"
	if [[ -n $reader ]]; then
		cpu=$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$COUNT" \
			'BEGIN { printf "%.1f", (b - a) / 1000 / n }')
	fi
	if [[ -n $before && -n $after ]]; then
		MEASURED="$out $((after - before)) $cpu"
	else
		MEASURED="$out - $cpu"
	fi
}

case_a() {
	measure
	RESULT="$MEASURED - - - -"
}

# nfq-accept (with options "$@") on the queue, for new outbound connections only, as vigild's
# rules do
run_reader() {
	local pid

	ip netns exec "$NS_A" "$NFQ_ACCEPT" "$@" "$QUEUE" 2>>"$WORK/nfq-accept.log" &
	pid=$!
	PIDS+=("$pid")
	wait_queue_bound "$pid" || die "nfq-accept $* did not bind queue $QUEUE (see $WORK/nfq-accept.log)"
	in_a iptables -w -A OUTPUT -o "$VETH_A" -m conntrack --ctstate NEW \
		-j NFQUEUE --queue-num "$QUEUE"
	measure "$pid"
	in_a iptables -w -D OUTPUT -o "$VETH_A" -m conntrack --ctstate NEW \
		-j NFQUEUE --queue-num "$QUEUE"
	stop_pid "$pid"
	RESULT="$MEASURED - - - -"
}

write_config() {
	local attribution
	for attribution in queue ebpf; do
		cat >"$WORK/vigild-$attribution.conf" <<-EOF
			[Daemon]
			QueueNumber=$QUEUE
			DefaultAction=allow
			FailMode=open
			Attribution=$attribution
			EbpfCgroup=$CGROUP
		EOF
	done
	# case h: as c (queue), no history on disk
	sed 's/^Attribution=ebpf$/Attribution=queue/' "$WORK/vigild-ebpf.conf" >"$WORK/vigild-nohistory.conf"
	echo "HistoryDays=0" >>"$WORK/vigild-nohistory.conf"
	# cases k and l: as g, verdicts in the kernel
	cp "$WORK/vigild-ebpf.conf" "$WORK/vigild-kernel.conf"
	echo "KernelVerdicts=ebpf" >>"$WORK/vigild-kernel.conf"
}

# the rule every measured connection must hit
client_rule() {
	echo "allow app $(readlink -f "$PROBE") to $ADDR_B port $PORT proto tcp"
}

# $FILLER_RULES rules none of which matches the client: other programs, other 10.x
# networks (never 10.199.x), other ports, hosts and domains, plus the client's own rule
write_filler_rules() {
	local probe
	probe=$(readlink -f "$PROBE")
	awk -v n="$FILLER_RULES" -v probe="$probe" -v port="$PORT" 'BEGIN {
		srand(1);
		for (i = 0; i < n; i++) {
			a = int(rand() * 198);         # 10.0-197.x: never the benchmark network
			b = int(rand() * 256);
			c = int(rand() * 256);
			p = 20000 + int(rand() * 40000); # never the benchmark port, 8080
			q = p + 1 + int(rand() * 100);
			k = i % 8;
			if (k == 0)
				printf "deny app /usr/bin/bench-prog-%d to 10.%d.%d.0/24 port %d proto tcp\n", i, a, b, p;
			else if (k == 1)
				printf "allow app /opt/bench/app-%d/bin/app port %d,%d-%d\n", i, p - 1, p, q;
			else if (k == 2)
				printf "drop to 10.%d.%d.%d port %d\n", a, b, c, p;
			else if (k == 3)
				printf "deny app %s to 10.%d.%d.0/24 port %d\n", probe, a, b, p;
			else if (k == 4)
				printf "allow app /usr/lib/bench/svc-%d to host-%d.example.org port 443 proto tcp\n", i, i;
			else if (k == 5)
				printf "deny app /usr/bin/bench-prog-%d to *.bench-%d.example.net\n", i, i;
			else if (k == 6)
				printf "allow app /usr/bin/bench-prog-%d to 10.%d.0.0/16 proto udp\n", i, a;
			else
				printf "deny to 10.%d.%d.0/24 port %d-%d proto tcp\n", a, b, p, q;
		}
	}'
	client_rule
}

# starts vigild with the rules file $1 in work directory $2; its pid in VIGILD_PID
# (Attribution=${3:-queue}); in the network namespace only, to see the cgroup mount
start_vigild() {
	local rules=$1 dir=$2 attribution=${3:-queue} pid ruleset

	mkdir -p "$dir/rules.d"
	cp "$rules" "$dir/rules.d/50-bench.rules"
	: >"$dir/learned.rules"
	nsenter --net="/run/netns/$NS_A" -- "$VIGILD" --foreground \
		--config "$WORK/vigild-$attribution.conf" --rules-dir "$dir/rules.d" \
		--learned-rules "$dir/learned.rules" >>"$dir/vigild.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_queue_bound "$pid" || die "vigild did not bind queue $QUEUE (see $dir/vigild.log)"
	# it binds first, then installs its rules: wait for those too
	for _ in $(seq 200); do
		ruleset="$(in_a iptables-save 2>/dev/null || true) $(in_a nft list ruleset 2>/dev/null || true)"
		[[ $ruleset == *NFQUEUE* || $ruleset == *" queue "* ]] && break
		sleep 0.05
	done
	VIGILD_PID=$pid
}

# runs vigild with the rules file $1; RESULT is the measurement, "rss_kib hwm_kib decided"
run_vigild() {
	local rules=$1 dir=$WORK/$2 probe pid decided loaded rss hwm

	start_vigild "$rules" "$dir" "${3:-queue}"
	pid=$VIGILD_PID
	measure "$pid"
	kill -0 "$pid" 2>/dev/null || die "vigild exited during the measurement (see $dir/vigild.log)"
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	stop_pid "$pid"
	# the log says whether the allow rule decided, rather than the default action
	probe=$(readlink -f "$PROBE")
	decided=$(grep -F "allow program=$probe " "$dir/vigild.log" | grep -cE ' rule=[0-9]+ ' || true)
	# past 100 lines per program in 10 s the log only counts them ("suppressed N decisions
	# of program=..."); every connection of the probe here is one its rule decides, as the
	# logged ones show (a default or deadline line would be logged first)
	decided=$((decided + $(grep -F "decisions of program=$probe " "$dir/vigild.log" |
		grep -oE 'suppressed [0-9]+' | awk '{ n += $2 } END { print n + 0 }')))
	loaded=$(grep -m1 -oE '[0-9]+ rule\(s\)' "$dir/vigild.log" | grep -oE '^[0-9]+' || echo "?")
	RESULT="$MEASURED $rss $hwm $decided $loaded"
}

# UDP datagrams to the flood's ports that reached namespace b so far (a counting rule there)
flood_received() {
	in_b iptables -w -L INPUT -v -x -n | awk -v p="dpts:$FLOOD_PORT:" 'index($0, p) { print $1; exit }'
}

# packets waiting in queue $QUEUE of namespace a (the kernel's count)
# shellcheck disable=SC2016 # an awk program, not a shell expansion
queue_waiting() {
	in_a awk -v q="$QUEUE" '$1 == q { print $3 }' /proc/net/netfilter/nfnetlink_queue
}

# one connection of the client coprocess; its latency in µs (or "fail") in SAMPLE
client_connect() {
	local words

	echo >&"${CLIENT[1]}"
	read -r -u "${CLIENT[0]}" -a words || die "the TCP client died"
	if [[ ${words[0]} == ok ]]; then SAMPLE=${words[1]}; else SAMPLE=fail; fi
}

# case f: RESULT is "quiet_samples|flood_samples|drain_ms list|received list"
run_flood() {
	local dir=$WORK/f-$1 pid client flood quiet=() flooded=() drain=() received=() i start last now n stable

	start_vigild "$WORK/one.rules" "$dir"
	pid=$VIGILD_PID
	coproc CLIENT { exec ip netns exec "$NS_A" "$PROBE" tcp-lines "$ADDR_B" "$PORT" --timeout 30000; }
	client=$CLIENT_PID
	PIDS+=("$client")
	for i in $(seq 20); do client_connect; done
	for i in $(seq "$FLOOD_EACH"); do
		# quiet means quiet: vigild has finished with the last flood's aftermath (its program's
		# exit, the log's summaries) before the sample without a flood is taken
		sleep 1
		client_connect
		quiet+=("$SAMPLE")
		in_b iptables -w -Z INPUT
		start=$(date +%s%N)
		# the flood's program lives on (its socket open) until it was worked through
		: >"$dir/flood.out"
		ip netns exec "$NS_A" "$FLOOD_EXE" udp-flood "$ADDR_B" "$FLOOD_PORT" "$FLOOD" \
			--timeout 600000 >"$dir/flood.out" &
		flood=$!
		PIDS+=("$flood")
		until [[ -s $dir/flood.out ]]; do
			kill -0 "$flood" 2>/dev/null || die "the flood's program died"
			sleep 0.001
		done
		client_connect
		flooded+=("$SAMPLE")
		# worked through: nothing waits in the kernel and the peer's count stood still
		last=-1 stable=0
		while ((stable < 5)); do
			sleep 0.05
			n=$(flood_received)
			if [[ $n == "$last" && $(queue_waiting) == 0 ]]; then stable=$((stable + 1)); else stable=0; fi
			last=$n
			now=$(date +%s%N)
			((now - start < 120000000000)) || die "the flood was not worked through in 120 s"
		done
		drain+=($(((now - start) / 1000000 - 250)))
		received+=("$n")
		stop_pid "$flood"
	done
	exec {CLIENT[1]}>&-
	stop_pid "$client"
	kill -0 "$pid" 2>/dev/null || die "vigild exited during the flood (see $dir/vigild.log)"
	stop_pid "$pid"
	RESULT="${quiet[*]}|${flooded[*]}|${drain[*]}|${received[*]}"
}

report_flood() {
	awk -F'|' -v flood="$FLOOD" '
	function median(list,    n, v, i, j, t) {
		n = split(list, v, " ");
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
	}
	function worst(list,    n, v, i, m) {
		n = split(list, v, " "); m = 0;
		for (i = 1; i <= n; i++) if (v[i] + 0 > m) m = v[i] + 0;
		return m;
	}
	{ q = q " " $1; f = f " " $2; d = d " " $3; r = r " " $4; }
	END {
		if (q == "") exit;
		mq = median(q); mf = median(f);
		printf "# f fairness: a rule-decided TCP connect of a known client, p50 (max) in us, %d samples each\n", split(q, tmp, " ");
		printf "#   without a flood: %d (%d); during a %d-flow UDP flood from another program: %d (%d); ratio %.1f (target <= 2)\n",
			mq, worst(q), flood, mf, worst(f), (mq > 0 ? mf / mq : 0);
		printf "#   the flood decided in %d ms (median); of its %d datagrams %d reached the peer (median)\n",
			median(d), flood, median(r);
	}' "$1"
}

main() {
	local round c

	setup_network
	start_server
	write_config
	client_rule >"$WORK/one.rules"
	write_filler_rules >"$WORK/many.rules"
	# the flood's program: another executable than the client, which no rule names
	FLOOD_EXE=$WORK/vigil-flood
	cp "$PROBE" "$FLOOD_EXE"
	in_b iptables -w -A INPUT -p udp --dport "$FLOOD_PORT:$((FLOOD_PORT + FLOOD - 1))" -j ACCEPT

	local cases=()
	for c in $CASES; do
		case $c in
		a | b | e) cases+=("$c") ;;
		c | d | f | g | h | k | l) [[ -x $VIGILD ]] && cases+=("$c") || echo "run-bench: no vigild at $VIGILD: skipping case $c" >&2 ;;
		*) die "unknown case $c (a, b, c, d, e, f, g, h, k or l)" ;;
		esac
	done

	echo "# $COUNT connections per measurement, $ROUNDS round(s), $(nproc) CPU(s), $(uname -r)"
	: >"$WORK/results"
	: >"$WORK/flood-results"
	for round in $(seq "$ROUNDS"); do
		for c in "${cases[@]}"; do
			case $c in
			a) case_a ;;
			b) run_reader ;;
			e) run_reader --attribute ;;
			c) run_vigild "$WORK/one.rules" "c-$round" ;;
			g) run_vigild "$WORK/one.rules" "g-$round" ebpf ;;
			h) run_vigild "$WORK/one.rules" "h-$round" nohistory ;;
			d) run_vigild "$WORK/many.rules" "d-$round" ;;
			k) run_vigild "$WORK/one.rules" "k-$round" kernel ;;
			l) run_vigild "$WORK/many.rules" "l-$round" kernel ;;
			f) run_flood "$round" ;;
			esac
			if [[ $c == f ]]; then
				echo "$RESULT" >>"$WORK/flood-results"
			else
				echo "$c $RESULT" >>"$WORK/results"
			fi
			echo "round $round case $c: $RESULT" >&2
		done
	done
	[[ -s $WORK/results ]] && report "$WORK/results" "$((COUNT + WARMUP))"
	report_flood "$WORK/flood-results"
}

# medians over rounds, then the table against cases a (no queue) and b (minimal reader)
report() {
	awk -v count="$COUNT" -v expected="$2" '
	function median(list,    n, v, i, j, t) {
		n = split(list, v, " ");
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
	}
	{
		c = $1; seen[c] = 1;
		p50[c] = p50[c] " " $2; p99[c] = p99[c] " " $3; cps[c] = cps[c] " " $4;
		fail[c] += $5;
		if ($6 != "-") queued[c] = queued[c] " " $6;
		if ($7 != "-") cpu[c] = cpu[c] " " $7;
		if ($8 != "-") { rss[c] = rss[c] " " $8; hwm[c] = hwm[c] " " $9; decided[c] = decided[c] " " $10; loaded[c] = $11; }
	}
	END {
		name["a"] = "a no queue"; name["b"] = "b nfq-accept";
		name["c"] = "c vigild, 1 rule"; name["d"] = "d vigild, 10k rules";
		name["e"] = "e floor: attribution"; name["g"] = "g vigild+eBPF, 1 rule";
		name["h"] = "h vigild, no history";
		name["k"] = "k kernel verdict, 1"; name["l"] = "l kernel verdict, 10k";
		for (c in seen) { m50[c] = median(p50[c]); m99[c] = median(p99[c]); mcps[c] = median(cps[c]); }
		for (c in cpu) mcpu[c] = median(cpu[c]);
		added_b = m50["b"] - m50["a"];
		printf "%-20s %8s %8s %10s %8s %9s %7s %9s %7s %8s\n", "case", "p50_us", "p99_us",
			"added_p50", "added/b", "conns/s", "cps/b", "cpu_us", "cpu/b", "failures";
		split("a b e c h g d k l", order, " ");
		for (i = 1; i <= 9; i++) {
			c = order[i];
			if (!(c in seen)) continue;
			added = m50[c] - m50["a"];
			printf "%-20s %8d %8d %10s %8s %9d %7s %9s %7s %8d\n", name[c], m50[c], m99[c],
				c == "a" ? "-" : sprintf("%d", added),
				(c == "a" || !("b" in seen) || added_b <= 0) ? "-" : sprintf("%.2f", added / added_b),
				mcps[c], ("b" in seen && mcps["b"] > 0) ? sprintf("%.2f", mcps[c] / mcps["b"]) : "-",
				(c in mcpu) ? sprintf("%.1f", mcpu[c]) : "-",
				((c in mcpu) && ("b" in mcpu) && mcpu["b"] > 0) ? sprintf("%.2f", mcpu[c] / mcpu["b"]) : "-",
				fail[c];
		}
		for (i = 2; i <= 9; i++) {
			c = order[i];
			if (c in queued && queued[c] != "")
				printf "# %s: packets through the queue per measurement: %s (of %d connections)\n",
					name[c], median(queued[c]), count;
		}
		for (i = 4; i <= 9; i++) {
			c = order[i];
			if (!(c in rss)) continue;
			printf "# %s: vigild VmRSS %.1f MiB, VmHWM %.1f MiB (target <= 16 MiB); rules loaded: %s; decided by the allow rule: %d of %d connections\n",
				name[c], median(rss[c]) / 1024, median(hwm[c]) / 1024, loaded[c], median(decided[c]), expected;
		}
		if ("c" in seen)
			printf "# targets: added/b <= 1.5 (c and d), d close to c, cps/b >= 0.8\n";
		if ("k" in seen)
			printf "# targets with the kernel verdict: added/b <= 0.5 (k and l), cps/b >= 1.5\n";
		printf "# cpu_us: CPU time of the queue reader (nfq-accept or vigild, all threads) per connection\n";
	}' "$1"
}

main
