#!/usr/bin/env bash
# Runs every test suite of booking on this machine, from nothing prepared:
#   installs missing packages, builds with warnings as errors, installs, starts a throwaway
#   cluster, runs pg_regress, isolation, pgTAP, stress, TAP and client-driver suites, and ends with
#   "N passed, N failed" (one count per test file).  Exit status 0 only when all passed.
#
# Usage (as root on Debian 12, or as a user with the packages installed and sudo-less
# permission to install into PostgreSQL's directories):
#   bash scripts/test-all.sh            every suite
#   SUITES="regress isolation" bash scripts/test-all.sh
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$ROOT/scripts/lib.sh"

SUITES=${SUITES:-"regress isolation pgtap stress tap driver"}
PORT=${BOOKING_TEST_PORT:-54329}

ensure_packages || exit 1
build_install "$ROOT" || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

# pg_config --pgxs names .../lib/pgxs/src/makefiles/pgxs.mk; the test programs live under .../lib/pgxs.
PGXS_DIR=$(cd "$(dirname "$("$BOOKING_PG_BIN/pg_config" --pgxs)")/../.." && pwd)

# The suites write results next to their inputs and the TAP tests start clusters of their own:
# run them from a copy that the postgres user owns.
WORK=$(mktemp -d /tmp/booking-test.XXXXXX)
chmod 755 "$WORK"
say "work directory: $WORK"
mkdir "$WORK/tree"
tar -C "$ROOT" --exclude=.git --exclude=.cluster --exclude='*.o' --exclude='*.so' -cf - . | tar -C "$WORK/tree" -xf -
[ "$(id -u)" = 0 ] && chown -R postgres: "$WORK"

start_cluster "$WORK/cluster" "$PORT" || { echo "cluster did not start"; echo "0 passed, 1 failed"; exit 1; }
# The work directory goes with the run unless BOOKING_KEEP_TEST_DIR is set (to read diffs).
trap 'stop_cluster "$WORK/cluster"; [ -n "${BOOKING_KEEP_TEST_DIR:-}" ] || rm -rf "$WORK"' EXIT

passed=0
failed=0
failures=()

record() {					# record NAME STATUS(ok|FAILED)
	if [ "$2" = ok ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$1")
	fi
}

# Counts "name ... ok" / "name ... FAILED" lines of pg_regress-style output.
count_regress() {
	local suite=$1 log=$2 line name
	local n=0
	while IFS= read -r line; do
		name=$(sed -E 's/^(test |     )?[[:space:]]*([^ ]+)[[:space:]]+\.\.\. .*/\2/' <<<"$line")
		if grep -qE '\.\.\. ok' <<<"$line"; then record "$suite/$name" ok; else record "$suite/$name" FAILED; fi
		n=$((n + 1))
	done < <(grep -E '\.\.\. (ok|FAILED|failed)' "$log")
	if [ "$n" = 0 ]; then
		echo "!!! suite $suite ran no test" >&2
		record "$suite" FAILED
	fi
}

# Counts "file .. ok" lines of prove output.
count_prove() {
	local suite=$1 log=$2 line name
	local n=0
	while IFS= read -r line; do
		name=${line%% *}
		if grep -qE '\.\. ok$' <<<"$line"; then record "$suite/$name" ok; else record "$suite/$name" FAILED; fi
		n=$((n + 1))
	done < <(grep -E '^[^ ]+\.(sql|pl) \.+ ' "$log")
	if [ "$n" = 0 ]; then
		echo "!!! suite $suite ran no test" >&2
		record "$suite" FAILED
	fi
}

T=$WORK/tree
REGRESS_TESTS=$(cd "$T" && ls sql/*.sql 2>/dev/null | xargs -r -n1 basename | sed 's/\.sql$//' | sort | tr '\n' ' ')
ISOLATION_TESTS=$(cd "$T" && ls test/specs/*.spec 2>/dev/null | xargs -r -n1 basename | sed 's/\.spec$//' | sort | tr '\n' ' ')

for suite in $SUITES; do
	log=$WORK/$suite.log
	say "suite: $suite"
	case $suite in
	regress)
		as_pg bash -c "cd '$T' && '$PGXS_DIR/src/test/regress/pg_regress' --bindir='$BOOKING_PG_BIN' \
			--host='$PGHOST' --port='$PGPORT' --inputdir=. --outputdir=results \
			--dbname=contrib_regression $REGRESS_TESTS" >"$log" 2>&1
		cat "$log"
		[ -f "$T/results/regression.diffs" ] && head -200 "$T/results/regression.diffs"
		count_regress regress "$log"
		;;
	isolation)
		as_pg bash -c "cd '$T' && '$PGXS_DIR/src/test/isolation/pg_isolation_regress' --bindir='$BOOKING_PG_BIN' \
			--host='$PGHOST' --port='$PGPORT' --inputdir=test --outputdir=output_iso \
			--dbname=isolation_regression $ISOLATION_TESTS" >"$log" 2>&1
		cat "$log"
		[ -f "$T/output_iso/regression.diffs" ] && head -200 "$T/output_iso/regression.diffs"
		count_regress isolation "$log"
		;;
	pgtap)
		as_pg bash -c "cd '$T' && dropdb --if-exists booking_pgtap && createdb booking_pgtap && \
			psql -q -d booking_pgtap -c 'CREATE EXTENSION pgtap; CREATE EXTENSION booking;' && \
			pg_prove -d booking_pgtap --ext .sql test/pgtap/" >"$log" 2>&1
		cat "$log"
		count_prove pgtap "$log"
		;;
	stress)
		if as_pg bash -c "cd '$T' && bash test/stress/run.sh" >"$log" 2>&1; then st=ok; else st=FAILED; fi
		# a failure's own lines first (they may be far from the end), then the summaries
		[ "$st" = ok ] || { grep -E '^stress[a-z-]*: (db=|summary)' "$log"; grep -A 15 '^VIOLATION' "$log" | head -80; }
		tail -40 "$log"
		record stress/run.sh "$st"
		;;
	driver)
		# Debian's own python3, which has python3-psycopg2, whatever else is first on PATH
		if as_pg bash -c "cd '$T' && /usr/bin/python3 test/driver/managed_concurrency.py" >"$log" 2>&1; then
			st=ok
		else
			st=FAILED
		fi
		tail -40 "$log"
		record driver/managed_concurrency "$st"
		;;
	tap)
		as_pg bash -c "cd '$T' && TESTDIR='$T' PATH='$BOOKING_PG_BIN:$PATH' \
			PG_REGRESS='$PGXS_DIR/src/test/regress/pg_regress' \
			prove -I '$PGXS_DIR/src/test/perl' -I '$T/test/t' test/t/*.pl" >"$log" 2>&1
		cat "$log"
		count_prove tap "$log"
		;;
	*)
		echo "unknown suite $suite" >&2
		record "$suite" FAILED
		;;
	esac
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
