# test/bench/summarize.awk — the table at the end of run.sh, from its results.tsv.
# Input: tab-separated, header first (round, workload, contender, tps, ..., status); only runs
# whose status is "ok" count.  -v names="a=...;b=...;c=..." gives the workloads' descriptions.
# Prints, per workload, each contender's median TPS with every run's figure and the ratio
# engine / contender; then each contender's (c) median against (b) and (a); then the diagnostic
# variants (labels with a "/") against the contender they vary.

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

BEGIN {
	split(names, pairs, ";")
	for (p in pairs) {
		split(pairs[p], kv, "=")
		desc[kv[1]] = kv[2]
	}
	nw = split("a b c", wls, " ")
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
	if ($11 == "ok")
		runs[wl, cname] = runs[wl, cname] (runs[wl, cname] == "" ? "" : " ") sprintf("%.1f", $4)
	else
		bad[++nbad] = sprintf("round %s, %s, %s: %s", $1, wl, cname, $11)
}

END {
	for (w = 1; w <= nw; w++) {
		wl = wls[w]
		n = split(order[wl], who, "|")
		for (i = 1; i <= n; i++)
			med[wl, who[i]] = median(runs[wl, who[i]])
	}

	printf "machine load (1-minute average at the start of each run): %.2f to %.2f\n\n", lmin, lmax
	printf "%-34s %-17s %12s   %-30s %s\n", "workload", "contender", "median TPS", "runs (TPS)", "engine / contender"
	for (w = 1; w <= nw; w++) {
		wl = wls[w]
		n = split(order[wl], who, "|")
		best = 0
		first = 1
		for (i = 1; i <= n; i++) {
			if (who[i] ~ /\//)
				continue
			r = (who[i] == "engine") ? "" : ratio(med[wl, "engine"], med[wl, who[i]])
			printf "%-34s %-17s %12.1f   %-30s %s\n", first ? desc[wl] : "", who[i], med[wl, who[i]], runs[wl, who[i]], r
			first = 0
			if (who[i] != "engine" && med[wl, who[i]] > best) {
				best = med[wl, who[i]]
				bestname = who[i]
			}
		}
		if (best > 0)
			printf "%-34s %-17s %12s   %-30s %s\n", "", "best peer: " bestname, "", "", ratio(med[wl, "engine"], best)
		printf "\n"
	}

	printf "(c), a resource holding many rows, against (b) and against (a) (median TPS of c / of b, of a):\n"
	n = split(order["c"], who, "|")
	for (i = 1; i <= n; i++)
		printf "  %-17s c/b %-8s c/a %s\n", who[i], ratio(med["c", who[i]], med["b", who[i]]), ratio(med["c", who[i]], med["a", who[i]])

	header = 0
	for (w = 1; w <= nw; w++) {
		wl = wls[w]
		n = split(order[wl], who, "|")
		for (i = 1; i <= n; i++) {
			if (who[i] !~ /\//)
				continue
			if (!header) {
				printf "\nDiagnostics (interleaved with the runs above; ratio = variant / the same contender as measured above):\n"
				printf "%-34s %-17s %12s   %-30s %s\n", "workload", "variant", "median TPS", "runs (TPS)", "vs base"
				header = 1
			}
			base = who[i]
			sub(/\/.*/, "", base)
			printf "%-34s %-17s %12.1f   %-30s %s\n", desc[wl], who[i], med[wl, who[i]], runs[wl, who[i]], ratio(med[wl, who[i]], med[wl, base])
		}
	}

	if (nbad > 0) {
		printf "\nRuns that did not count:\n"
		for (i = 1; i <= nbad; i++)
			printf "  %s\n", bad[i]
	}
}
