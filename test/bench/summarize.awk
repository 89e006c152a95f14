# test/bench/summarize.awk — the table at the end of run.sh, from its results.tsv.
# Input: tab-separated, header first (round, workload, contender, tps, txns, failed, rows, ...,
# status, load, retried); only runs whose status is "ok" count.  -v wls="a b c d u e f" gives the
# workloads present, in order; -v names="a=...;b=..." their descriptions.
# Prints, per workload, each contender's median TPS (attempts per second) with every run's
# figure, the median share of attempts that booked a row, and the ratio engine / contender; then
# (c) against (b) and (a), and (f) against (d), per contender; the issue's targets and the
# ceilings N, R and W (not peers: they are left out of "best peer"); the attempts
# pgbench retried (deadlocks); then the
# diagnostic variants (labels with a "/") against the contender they vary.

# One line of the seat map against a ceiling c: engine / c, F / c, c / F, and what c is.
function seat_ceiling(c, what) {
	if (present("s") && med["s", c] > 0)
		printf "  (s) engine / %s  %-8s F / %s  %-8s %s / F  %s  (%s: %s)\n", c,
			ratio(med["s", "engine"], med["s", c]), c, ratio(med["s", "F"], med["s", c]), c,
			ratio(med["s", c], med["s", "F"]), c, what
}

function median(list,    v, k, n, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++) {
		t = v[i] + 0
		for (j = i - 1; j >= 1 && v[j] + 0 > t; j--)
			v[j + 1] = v[j]
		v[j + 1] = t
	}
	if (n == 0)
		return 0
	if (n % 2)
		return v[(n + 1) / 2] + 0
	return (v[n / 2] + v[n / 2 + 1]) / 2
}

function ratio(x, y) {
	return y > 0 ? sprintf("%.2fx", x / y) : "n/a"
}

function present(wl) {
	return (wl in order)
}

BEGIN {
	split(names, pairs, ";")
	for (p in pairs) {
		split(pairs[p], kv, "=")
		desc[kv[1]] = kv[2]
	}
	nw = split(wls, wl_list, " ")
	fmt = "%-30s %-17s %11s  %7s   %-30s %s\n"
}

NR == 1 { next }

{
	wl = $2; cname = $3
	if (!((wl, cname) in seen)) {
		seen[wl, cname] = 1
		order[wl] = order[wl] (order[wl] == "" ? "" : "|") cname
	}
	if (nload == 0 || $12 + 0 < lmin)
		lmin = $12 + 0
	if (nload++ == 0 || $12 + 0 > lmax)
		lmax = $12 + 0
	if ($13 + 0 > 0) {
		if (!((wl, cname) in retried))
			rorder = rorder (rorder == "" ? "" : "|") wl SUBSEP cname
		retried[wl, cname] += $13
	}
	if ($11 == "ok") {
		runs[wl, cname] = runs[wl, cname] (runs[wl, cname] == "" ? "" : " ") sprintf("%.1f", $4)
		share[wl, cname] = share[wl, cname] (share[wl, cname] == "" ? "" : " ") ($5 > 0 ? $7 / $5 : 0)
	} else
		bad[++nbad] = sprintf("round %s, %s, %s: %s", $1, wl, cname, $11)
}

END {
	for (w = 1; w <= nw; w++) {
		wl = wl_list[w]
		n = split(order[wl], who, "|")
		for (i = 1; i <= n; i++) {
			med[wl, who[i]] = median(runs[wl, who[i]])
			booked[wl, who[i]] = share[wl, who[i]] == "" ? "n/a" : sprintf("%.1f%%", 100 * median(share[wl, who[i]]))
		}
	}

	printf "machine load (1-minute average at the start of each run): %.2f to %.2f\n\n", lmin, lmax
	printf fmt, "workload", "contender", "median TPS", "booked", "runs (TPS)", "engine / contender"
	for (w = 1; w <= nw; w++) {
		wl = wl_list[w]
		n = split(order[wl], who, "|")
		best = 0
		first = 1
		for (i = 1; i <= n; i++) {
			if (who[i] ~ /\//)
				continue
			r = (who[i] == "engine") ? "" : ratio(med[wl, "engine"], med[wl, who[i]])
			printf fmt, first ? desc[wl] : "", who[i], sprintf("%.1f", med[wl, who[i]]), booked[wl, who[i]], runs[wl, who[i]], r
			first = 0
			if (who[i] != "engine" && who[i] != "N" && who[i] != "R" && who[i] != "W" && who[i] != "V" && who[i] != "A" && who[i] != "I" && med[wl, who[i]] > best) {
				best = med[wl, who[i]]
				bestname = who[i]
			}
			if (who[i] != "N" && who[i] != "R" && who[i] != "W" && who[i] != "V" && who[i] != "A" && who[i] != "I")
				npeers[wl]++
		}
		if (best > 0 && npeers[wl] > 2)
			printf fmt, "", "best peer: " bestname, "", "", "", ratio(med[wl, "engine"], best)
		printf "\n"
	}

	if (present("c")) {
		printf "(c), a resource holding many rows, against (b) and against (a) (median TPS of c / of b, of a):\n"
		n = split(order["c"], who, "|")
		for (i = 1; i <= n; i++)
			printf "  %-17s c/b %-8s c/a %s\n", who[i], ratio(med["c", who[i]], med["b", who[i]]), ratio(med["c", who[i]], med["a", who[i]])
		printf "\n"
	}
	if (present("f") && present("d")) {
		printf "(f) against (d), the same requests on rooms holding many more bookings (median TPS of f / of d):\n"
		n = split(order["f"], who, "|")
		for (i = 1; i <= n; i++)
			printf "  %-17s f/d %s\n", who[i], ratio(med["f", who[i]], med["d", who[i]])
		printf "\n"
	}
	if (present("d") || present("e") || present("s") || present("m")) {
		printf "Targets of issues 3, 4 and 5 (engine median / peer median):\n"
		if (present("d"))
			printf "  (d) engine / E  %-8s target >= 1.00x: %s\n", ratio(med["d", "engine"], med["d", "E"]),
				(med["d", "E"] > 0 && med["d", "engine"] >= med["d", "E"]) ? "met" : "not met"
		if (present("u"))
			printf "  (u) engine / E  %-8s engine / U  %s  (no target; U is only right on a grid of the slot length)\n",
				ratio(med["u", "engine"], med["u", "E"]), ratio(med["u", "engine"], med["u", "U"])
		if (present("e"))
			printf "  (e) engine / P  %-8s target >= 1.50x: %s\n", ratio(med["e", "engine"], med["e", "P"]),
				(med["e", "P"] > 0 && med["e", "engine"] >= 1.5 * med["e", "P"]) ? "met" : "not met"
		if (present("f") && present("d"))
			printf "  (f) engine f/d  %-8s target: flat (1.00x)\n", ratio(med["f", "engine"], med["d", "engine"])
		if (present("s"))
			printf "  (s) engine / F  %-8s target >= 1.50x: %s  (issue 4)\n", ratio(med["s", "engine"], med["s", "F"]),
				(med["s", "F"] > 0 && med["s", "engine"] >= 1.5 * med["s", "F"]) ? "met" : "not met"
		if (present("m"))
			printf "  (m) engine / R  %-8s target >= %.2fx (the guard costs at most 30%% of a transaction): %s;  engine / X  %s  (issue 5)\n",
				ratio(med["m", "engine"], med["m", "R"]), 1 / 1.3,
				(med["m", "R"] > 0 && 1.3 * med["m", "engine"] >= med["m", "R"]) ? "met" : "not met",
				ratio(med["m", "engine"], med["m", "X"])
		if ((present("d") && med["d", "N"] > 0) || (present("e") && med["e", "N"] > 0) || (present("s") && med["s", "W"] > 0))
			printf "Against the ceilings N (the INSERT with no check at all), W, V, A and I (the seat map's writes, unchecked):\n"
		if (present("d") && med["d", "N"] > 0)
			printf "  (d) engine / N  %-8s E / N  %s\n", ratio(med["d", "engine"], med["d", "N"]), ratio(med["d", "E"], med["d", "N"])
		if (present("e") && med["e", "N"] > 0)
			printf "  (e) engine / N  %-8s P / N  %-8s N / P  %s  (the most any writer of the row could get against P)\n",
				ratio(med["e", "engine"], med["e", "N"]), ratio(med["e", "P"], med["e", "N"]), ratio(med["e", "N"], med["e", "P"])
		seat_ceiling("W", "three prepared UPDATEs writing each seat once, unchecked")
		seat_ceiling("V", "the engine's data model, a counter and a booking row per seat, written unchecked and unaudited as SQL statements")
		seat_ceiling("A", "V plus a queue entry per held seat and an audit row per seat per transition: the engine's design before its hold slot, unchecked, as SQL statements")
		seat_ceiling("I", "A with each hold found through its seat's own row instead of a list (as the engine's hold slot does): the contract's writes, unchecked, as SQL statements")
		if (present("s") && med["s", "F/async"] > 0)
			printf "  (s) with synchronous_commit off: engine / F  %s\n", ratio(med["s", "engine/async"], med["s", "F/async"])
		if (present("e") && med["e", "P/async"] > 0)
			printf "  (e) with synchronous_commit off: engine / P  %s    N / P  %s\n",
				ratio(med["e", "engine/async"], med["e", "P/async"]), ratio(med["e", "N/async"], med["e", "P/async"])
		printf "\n"
	}

	if (rorder != "") {
		printf "Attempts retried after a deadlock or serialization failure (pgbench --max-tries, all rounds):\n"
		n = split(rorder, keys, "|")
		for (i = 1; i <= n; i++) {
			split(keys[i], k, SUBSEP)
			printf "  %-30s %-17s %d\n", desc[k[1]], k[2], retried[k[1], k[2]]
		}
		printf "\n"
	}

	header = 0
	for (w = 1; w <= nw; w++) {
		wl = wl_list[w]
		n = split(order[wl], who, "|")
		for (i = 1; i <= n; i++) {
			if (who[i] !~ /\//)
				continue
			if (!header) {
				printf "Diagnostics (interleaved with the runs above; ratio = variant / the same contender as measured above):\n"
				printf fmt, "workload", "variant", "median TPS", "booked", "runs (TPS)", "vs base"
				header = 1
			}
			base = who[i]
			sub(/\/.*/, "", base)
			printf fmt, desc[wl], who[i], sprintf("%.1f", med[wl, who[i]]), booked[wl, who[i]], runs[wl, who[i]], ratio(med[wl, who[i]], med[wl, base])
		}
	}

	if (nbad > 0) {
		printf "\nRuns that did not count:\n"
		for (i = 1; i <= nbad; i++)
			printf "  %s\n", bad[i]
	}
}
