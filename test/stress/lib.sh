# Shared by the stress scripts (run.sh, timeline.sh, lifecycle.sh): sourced after each has set
# DB and DIRECT and defined check_direct_errors (which SQLSTATEs its direct writers may meet).

# The statuses that take capacity, as an SQL list.
CONSUMING="'held', 'pending', 'confirmed', 'completed'"

# stress_workdir NAME: a work directory of the part's own in $WORK, and PIDS for the background
# jobs it starts; at exit the jobs are stopped and the directory removed.
stress_workdir() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	PIDS=()
	trap stress_cleanup EXIT
}
stress_cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$WORK"
}

violations=0
violation() {
	echo "VIOLATION: $*"
	violations=$((violations + 1))
}

q() {						# q SQL: one value, unaligned, errors fatal
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
}

# check_load RC BOOK_SCRIPT DIRECT_OK_REGEX: what every load run checks once pgbench (exit code
# RC), the live checker and the direct writers are done.  Sets book_tx, total_tx, tps, checks,
# direct_ok and direct_refused for the summary.
check_load() {
	local rc=$1 book_script=$2 ok_regex=$3 i out failed_tx
	if [ "$rc" != 0 ] || grep -q 'aborted' "$WORK/pgbench.err" "$WORK/pgbench.out"; then
		violation "pgbench exited with $rc; a client met an error:"
		grep -E 'ERROR|aborted|FATAL' "$WORK/pgbench.err" | head -20
	fi
	failed_tx=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$WORK/pgbench.out")
	[ "${failed_tx:-0}" = 0 ] || violation "pgbench counted $failed_tx failed transactions"

	# pgbench's per-script counts: "SQL script N: path" followed by " - T transactions (...)".
	book_tx=$(awk -v s="$book_script" '/^SQL script [0-9]+:/ { cur = ($NF ~ ("/" s "$")) } cur && /^ - [0-9]+ transactions/ { print $2; exit }' "$WORK/pgbench.out")
	total_tx=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$WORK/pgbench.out")
	tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$WORK/pgbench.out")

	checks=$(cat "$WORK/checker.count" 2>/dev/null || echo 0)
	if [ -s "$WORK/checker.out" ]; then
		violation "invariants broken while the load ran:"
		head -30 "$WORK/checker.out"
	fi
	if [ -s "$WORK/checker.err" ]; then
		violation "the live checker's queries failed:"
		head -5 "$WORK/checker.err"
	fi
	[ "$checks" -gt 0 ] || violation "the live checker never ran"

	direct_ok=0
	direct_refused=0
	for i in $(seq 1 "$DIRECT"); do
		out=$(check_direct_errors "$WORK/direct.$i.err")
		if grep -q '^unexpected' <<<"$out"; then
			violation "direct session $i met errors other than a right refusal:"
			grep '^unexpected' <<<"$out" | head -10
		fi
		direct_refused=$((direct_refused + $(sed -n 's/^refusals //p' <<<"$out")))
		direct_ok=$((direct_ok + $(grep -cE "$ok_regex" "$WORK/direct.$i.out")))
	done
}
