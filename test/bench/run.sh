#!/usr/bin/env bash
# test/bench/run.sh — `make bench`: the engine against the peers a careful user writes, side by side.
#
# One throwaway cluster, one database, both sides in it (setup.sql).  Contenders, each called by
# pgbench as one SELECT per transaction with 16 clients:
#   engine  SELECT booking.book_slot(:rid, :spots)          (audit on, the default)
#   P1      bench.p1_book: conditional UPDATE of the counter, then INSERT
#   P2      bench.p2_book: SELECT ... FOR UPDATE, check, UPDATE, INSERT
#   P3      bench.p3_book: pg_advisory_xact_lock, sum() of the rows, check, INSERT
# Workloads (spots random 1-4, capacity never reached):
#   a  one hot resource
#   b  BENCH_RESOURCES resources, a random one per transaction
#   c  one resource already holding BENCH_BIG_ROWS bookings
# Every (workload, contender) pair runs BENCH_SECONDS, in rounds whose contender order rotates;
# before each run reset.sql restores the same starting state (rows, counters, empty audit,
# VACUUM, CHECKPOINT); after it check.sql counts what was written and checks the counters.
# The table printed at the end (median TPS, engine/peer ratios, c against b and a) is also saved,
# with the raw per-run figures and pgbench logs, under BENCH_OUT (default test/bench/out).
#
# Diagnostics (BENCH_DIAG=1, the default; workloads a and b only): the engine with -M simple, with
# booking.audit off and with synchronous_commit off, and P1 with -M simple and synchronous_commit
# off, interleaved with the main runs, to show where the engine's time goes.
#
# Settings (environment): BENCH_SECONDS (10), BENCH_ROUNDS (3), BENCH_CLIENTS (16), BENCH_JOBS
# (CPUs), BENCH_RESOURCES (1000), BENCH_BIG_ROWS (200000), BENCH_DIAG (1), BENCH_PORT (5504),
# BENCH_OUT, BENCH_KEEP (1: leave the cluster running), BENCH_COMMIT (the label printed when the
# tree is not a git checkout), BENCH_INSTALL: "system" (the default) runs build_install into the
# system's PostgreSQL as the other suites do (BENCH_SKIP_BUILD=1: measure what is installed);
# "private" builds a copy of the tree into a private copy of PostgreSQL, for a shared machine where
# others reinstall the module.  Either way a run refuses to start once the module has changed.
# BENCH_QUICK=1 is a smoke test: 2 s runs, 1 round, 20000 pre-loaded rows.
# With the defaults the whole run takes about 15 minutes (66 runs of 10 s plus resets).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=../../scripts/lib.sh
source "$ROOT/scripts/lib.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_SECONDS:=2}" "${BENCH_ROUNDS:=1}" "${BENCH_BIG_ROWS:=20000}"
fi
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_CLIENTS:-16}
JOBS=${BENCH_JOBS:-$(nproc)}
RESOURCES=${BENCH_RESOURCES:-1000}
BIG_ROWS=${BENCH_BIG_ROWS:-200000}
DIAG=${BENCH_DIAG:-1}
PORT=${BENCH_PORT:-5504}
CAPACITY=1000000000

[ "$JOBS" -gt "$CLIENTS" ] && JOBS=$CLIENTS

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${BENCH_OUT:-$ROOT/test/bench/out}
if ! mkdir -p "$OUT" 2>/dev/null || [ ! -w "$OUT" ]; then
	OUT=$(mktemp -d /tmp/booking-bench-out.XXXXXX)
fi
RUN=$OUT/run-$STAMP
mkdir -p "$RUN"

ensure_packages

# Everything the postgres user has to read lives in a directory of its own.
WORK=$(mktemp -d /tmp/booking-bench.XXXXXX)
chmod 755 "$WORK"
CLUSTER=$WORK/cluster
cp "$HERE/setup.sql" "$HERE/reset.sql" "$HERE/check.sql" "$WORK/"

case ${BENCH_INSTALL:-system} in
system)
	[ "${BENCH_SKIP_BUILD:-0}" = 1 ] || build_install "$ROOT"
	;;
private)
	# A copy of the PostgreSQL installation (its binaries find their lib and share directories
	# relative to themselves) with this tree's build installed into it: nobody else's install
	# replaces the module under the benchmark, and the benchmark replaces nobody's.
	say "building into a private copy of PostgreSQL $BOOKING_PG_MAJOR under $WORK/pg"
	mkdir -p "$WORK/pg/usr/lib/postgresql" "$WORK/pg/usr/share/postgresql" "$WORK/src"
	cp -a "/usr/lib/postgresql/$BOOKING_PG_MAJOR" "$WORK/pg/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$BOOKING_PG_MAJOR" "$WORK/pg/usr/share/postgresql/"
	tar -C "$ROOT" --exclude=./.git --exclude=./test/bench/out --exclude=./.cluster -cf - . | tar -C "$WORK/src" -xf -
	make -C "$WORK/src" -s clean PG_CONFIG="$BOOKING_PG_BIN/pg_config" >/dev/null
	make -C "$WORK/src" -s PG_CONFIG="$BOOKING_PG_BIN/pg_config" \
		PG_CFLAGS="-Wall -Wextra -Werror -Wno-unused-parameter" >/dev/null
	make -C "$WORK/src" -s PG_CONFIG="$BOOKING_PG_BIN/pg_config" DESTDIR="$WORK/pg" install >/dev/null
	BOOKING_PG_BIN=$WORK/pg/usr/lib/postgresql/$BOOKING_PG_MAJOR/bin
	export PATH="$BOOKING_PG_BIN:$PATH"
	;;
*)
	echo "BENCH_INSTALL must be system or private" >&2
	exit 2
	;;
esac

# The module every run measures; a run refuses to start once it has been replaced.
MODULE=$("$BOOKING_PG_BIN/pg_config" --pkglibdir)/booking.so
module_sum() { md5sum "$MODULE" | cut -d' ' -f1; }
MODULE_SUM=$(module_sum)

cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "cluster left running in $CLUSTER (port $PORT)"
		return
	fi
	stop_cluster "$CLUSTER"
	rm -rf "$WORK"
}
trap cleanup EXIT

start_cluster "$CLUSTER" "$PORT"

pg() { as_pg psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# Quiet, repeatable server: no autovacuum starting in the middle of one run and not another
# (reset.sql vacuums before every run), no checkpoint forced by WAL volume during a run.
pg -c "ALTER SYSTEM SET autovacuum = off" \
	-c "ALTER SYSTEM SET max_wal_size = '16GB'" \
	-c "ALTER SYSTEM SET checkpoint_timeout = '1h'" \
	-c "SELECT pg_reload_conf()" >/dev/null

say "setting up: $RESOURCES resources, $BIG_ROWS bookings pre-loaded on each side"
t0=$(date +%s)
pg -v resources="$RESOURCES" -v big_rows="$BIG_ROWS" -v capacity="$CAPACITY" -f "$WORK/setup.sql" >/dev/null
say "set up in $(($(date +%s) - t0)) s"

# Workloads: which resource a transaction books.
declare -A RID=([a]="1" [b]="random(1001, $((1000 + RESOURCES)))" [c]="2")
declare -A WL_NAME=([a]="(a) 1 hot resource" [b]="(b) $RESOURCES resources, random"
	[c]="(c) 1 resource, $BIG_ROWS rows")

# Contenders: label|function|query mode|PGOPTIONS.
MAIN=("engine|booking.book_slot|prepared|"
	"P1|bench.p1_book|prepared|"
	"P2|bench.p2_book|prepared|"
	"P3|bench.p3_book|prepared|")
EXTRA=("engine/simple|booking.book_slot|simple|"
	"engine/audit-off|booking.book_slot|prepared|-c booking.audit=off"
	"engine/async|booking.book_slot|prepared|-c synchronous_commit=off"
	"P1/simple|bench.p1_book|simple|"
	"P1/async|bench.p1_book|prepared|-c synchronous_commit=off")

contenders_for() {
	local wl=$1
	printf '%s\n' "${MAIN[@]}"
	if [ "$DIAG" = 1 ] && [ "$wl" != c ]; then
		printf '%s\n' "${EXTRA[@]}"
	fi
}

script_for() {
	local wl=$1 func=$2 file
	file=$WORK/$wl-${func//./_}.sql
	if [ ! -f "$file" ]; then
		printf '\\set rid %s\n\\set spots random(1, 4)\nSELECT %s(:rid, :spots);\n' \
			"${RID[$wl]}" "$func" >"$file"
		chmod 644 "$file"
	fi
	echo "$file"
}

RESULTS=$RUN/results.tsv
printf 'round\tworkload\tcontender\ttps\ttxns\tfailed\trows\tattempts\tverify\tpeer_mismatch\tstatus\tload\n' >"$RESULTS"

total_runs=0
for wl in a b c; do
	total_runs=$((total_runs + $(contenders_for "$wl" | wc -l)))
done
total_runs=$((total_runs * ROUNDS))
say "$total_runs runs of $SECS s, $CLIENTS clients, $JOBS pgbench threads; results in $RUN"

n=0
for ((round = 1; round <= ROUNDS; round++)); do
	for wl in a b c; do
		mapfile -t list < <(contenders_for "$wl")
		count=${#list[@]}
		for ((i = 0; i < count; i++)); do
			# Rotate the order each round so that no contender always runs first or last.
			spec=${list[$(((i + round - 1) % count))]}
			IFS='|' read -r label func mode opts <<<"$spec"
			n=$((n + 1))

			if [ "$(module_sum)" != "$MODULE_SUM" ]; then
				echo "$MODULE was replaced during the benchmark: its figures would mix two builds" >&2
				echo "(on a shared machine, BENCH_INSTALL=private keeps a copy of its own)" >&2
				exit 1
			fi
			pg -f "$WORK/reset.sql" >/dev/null
			load=$(cut -d' ' -f1 /proc/loadavg)

			log=$RUN/r$round-$wl-${label//\//-}.log
			script=$(script_for "$wl" "$func")
			rc=0
			as_pg env PGOPTIONS="$opts" pgbench -n -c "$CLIENTS" -j "$JOBS" -T "$SECS" -M "$mode" \
				-f "$script" postgres >"$log" 2>&1 || rc=$?

			tps=$(awk '/^tps = / { print $3; exit }' "$log")
			txns=$(awk -F': ' '/^number of transactions actually processed/ { split($2, a, "/"); print a[1]; exit }' "$log")
			failed=$(awk -F': ' '/^number of failed transactions/ { split($2, a, " "); print a[1]; exit }' "$log")
			IFS='|' read -r erows attempts verify prows mismatch < <(pg -At -f "$WORK/check.sql")

			# A run counts only if every transaction booked exactly one row on the contender's
			# side and the counters still agree with the rows.
			status=ok
			if [ "$rc" != 0 ] || [ -z "$tps" ]; then
				status="pgbench-exit-$rc"
			else
				case $label in
				engine*) rows=$erows ;;
				*) rows=$prows ;;
				esac
				if [ "$rows" != "${txns:-x}" ]; then
					status="rows-$rows-vs-txns-$txns"
				elif [ "$verify" != 0 ]; then
					status="verify-$verify"
				elif [[ $label == engine* ]] && [[ $opts != *audit=off* ]] && [ "$attempts" != "$txns" ]; then
					status="attempts-$attempts"
				elif [[ $label == P1* || $label == P2* ]] && [ "$mismatch" != 0 ]; then
					status="counter-mismatch-$mismatch"
				fi
			fi
			[[ $label == engine* ]] && rows=$erows || rows=$prows
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$wl" "$label" "${tps:-0}" \
				"${txns:-0}" "${failed:-0}" "$rows" "$attempts" "$verify" "$mismatch" "$status" "$load" >>"$RESULTS"
			printf '[%3d/%d] round %d  %-32s %-17s %10.1f tps  %s\n' "$n" "$total_runs" "$round" \
				"${WL_NAME[$wl]}" "$label" "${tps:-0}" "$status" >&2
		done
	done
done

version=$(pg -At -c "SHOW server_version")
commit=${BENCH_COMMIT:-$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)}
SUMMARY=$RUN/summary.txt
{
	echo "booking bench, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, PostgreSQL $version, $(nproc) CPUs"
	echo "$CLIENTS clients, $JOBS pgbench threads, $SECS s per run, $ROUNDS rounds (contender order rotated)," \
		"spots random 1-4, capacity never reached, booking.audit on, synchronous_commit on, -M prepared"
	echo
	awk -F'\t' -v names="a=${WL_NAME[a]};b=${WL_NAME[b]};c=${WL_NAME[c]}" -f "$HERE/summarize.awk" "$RESULTS"
} | tee "$SUMMARY"
cp "$SUMMARY" "$OUT/summary-latest.txt" 2>/dev/null || true
say "saved: $SUMMARY (raw figures: $RESULTS)"

if ! awk -F'\t' 'NR > 1 && $11 != "ok" { exit 1 }' "$RESULTS"; then
	say "some runs did not count (see the status column of $RESULTS)"
	exit 1
fi
