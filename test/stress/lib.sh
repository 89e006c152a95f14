# Shared by the stress scripts (run.sh, timeline.sh, lifecycle.sh): sourced after each has set
# DB and DIRECT and defined check_direct_errors (which SQLSTATEs its direct writers may meet).

# The statuses that take capacity, as an SQL list.
CONSUMING="'held', 'pending', 'confirmed', 'completed'"

# The independent sweep of the timeline resources, in plain SQL (timeline.sh, lifecycle.sh).
# One line per timeline resource that goes over capacity at some instant
# ('over|resource|capacity|instant|load' at the first such instant), followed by the
# rows that cover that instant ('row|id|resource|spots|kind|status|during|widened'), plus one
# line per row of a timeline resource whose range is not [lower, upper) or not bounded, which
# the sweep's ordering assumes ('shape|id|during').  Empty when all is well.  A hold whose time
# has passed (as of the statement's transaction) takes nothing, as the engine judges it.
SWEEP_SQL="
WITH c AS (
	SELECT b.id, b.resource_id, b.spots, b.kind, b.status, b.during, r.capacity,
	       CASE WHEN b.kind = 'block' THEN lower(b.during) ELSE lower(b.during) - r.buffer_before END AS s,
	       CASE WHEN b.kind = 'block' THEN upper(b.during) ELSE upper(b.during) + r.buffer_after END AS e,
	       CASE WHEN b.kind = 'block' THEN r.capacity ELSE b.spots END AS n
	  FROM booking.booking b
	  JOIN booking.resource r ON r.id = b.resource_id
	 WHERE r.timeline AND b.status IN ($CONSUMING)
	   AND NOT (b.status = 'held' AND b.expires_at <= clock_timestamp())
), ev AS (
	SELECT resource_id, capacity, s AS at, n AS delta FROM c
	UNION ALL
	SELECT resource_id, capacity, e AS at, -n AS delta FROM c
), swept AS (
	SELECT resource_id, capacity, at,
	       sum(delta) OVER (PARTITION BY resource_id ORDER BY at, delta
	                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS load
	  FROM ev
), over AS (
	SELECT DISTINCT ON (resource_id) resource_id, capacity, at, load
	  FROM swept
	 WHERE load > capacity
	 ORDER BY resource_id, at
)
SELECT line FROM (
	SELECT o.resource_id, 0 AS k, o.at, concat_ws('|', 'over', o.resource_id, o.capacity, o.at, o.load) AS line
	  FROM over o
	UNION ALL
	SELECT o.resource_id, 1, c.s, concat_ws('|', 'row', c.id, c.resource_id, c.spots, c.kind, c.status, c.during, tstzrange(c.s, c.e))
	  FROM over o JOIN c ON c.resource_id = o.resource_id AND c.s <= o.at AND o.at < c.e
	UNION ALL
	SELECT b.resource_id, 2, NULL, concat_ws('|', 'shape', b.id, b.during)
	  FROM booking.booking b JOIN booking.resource r ON r.id = b.resource_id
	 WHERE r.timeline
	   AND (b.during IS NULL OR isempty(b.during) OR lower_inf(b.during) OR upper_inf(b.during)
	        OR NOT lower_inc(b.during) OR upper_inc(b.during))
) x
ORDER BY resource_id, k, at"

# Counters against rows: one line per resource whose counter is not what it should be — the
# spots its consuming rows hold on a pool (past-due holds included, until marked expired), 0 on a
# timeline resource, which keeps no counter — or is over capacity or negative
# ('counter|id|capacity|reserved|expected').
COUNTER_SQL="
SELECT concat_ws('|', 'counter', r.id, r.capacity, r.spots_reserved, e.n)
  FROM booking.resource r
  LEFT JOIN (SELECT b.resource_id, sum(b.spots) AS n
               FROM booking.booking b
              WHERE b.status IN ($CONSUMING) AND b.kind = 'booking'
              GROUP BY b.resource_id) c ON c.resource_id = r.id
  CROSS JOIN LATERAL (SELECT CASE WHEN r.timeline THEN 0 ELSE COALESCE(c.n, 0) END AS n) e
 WHERE r.spots_reserved <> e.n OR r.spots_reserved > r.capacity OR r.spots_reserved < 0"

# What verify() reports, a line per row ('verify|resource|capacity|reserved|counted|problem').
VERIFY_SQL="SELECT concat_ws('|', 'verify', v.resource_id, v.capacity, v.spots_reserved, v.counted, v.problem) FROM booking.verify() v"

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
