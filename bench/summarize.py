#!/usr/bin/env python3
"""Summarise bench/proxy.sh's results.tsv into a markdown table and budget verdicts.

Per peer: the median over rounds of req/s, p50, p99 and CPU time per request; the largest peak
RSS of any round; errors and non-2xx summed; the ratios to nginx. Also, for each tollgate build,
the ratios to nginx paired by round: the peers of one round run one after the other, so a ratio
within a round is not moved by the machine's drift between rounds as the medians are.

Where the rounds left wrk's latency histograms (bench/latency.lua, `NAME/roundN/latency.tsv`
beside results.tsv), each peer's rounds are also pooled into one distribution: its percentiles
are those of every request the peer answered in the run. A p99 taken per round sits where the
body of the distribution meets the stalls of a shared machine, so it jumps from round to round;
the pooled one weighs each round by its requests and each stall by the requests it held up.
Where the rounds also ran paced (bench/proxy.sh's PACED_RATE: every peer offered the same rate),
a third table gives the latency at that equal load, median of rounds, pooled and paired
by round. Only the standard library.
"""

import csv
import os
import statistics
import sys

PEER_ORDER = ["nginx", "haproxy", "traefik", "relay", "direct"]
LABELS = {"direct": "backend direct (ceiling)", "relay": "tcp relay (proxy ceiling)"}


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def paired(rows, name, peer, field):
    """`name`'s `field` over `peer`'s, in each round both ran."""
    by_round = {}
    for row in rows:
        # Older result files lack the newer columns: those rounds pair nothing.
        by_round.setdefault(row["round"], {})[row["name"]] = number(row.get(field))
    return [r[name] / r[peer] for r in by_round.values() if r.get(name) and r.get(peer)]


def read_histogram(path):
    """wrk's latency histogram as {microseconds: count}; None when the round left none."""
    try:
        with open(path) as f:
            counts = {}
            for line in f:
                value, count = line.split()
                counts[int(value)] = counts.get(int(value), 0) + int(count)
            return counts or None
    except (OSError, ValueError):
        return None


def pooled_histogram(out_dir, name, runs, file="latency.tsv"):
    """All rounds of one peer merged; None unless every round left a histogram."""
    merged = {}
    for run in runs:
        counts = read_histogram(os.path.join(out_dir, name, f"round{run['round']}", file))
        if counts is None:
            return None
        for value, count in counts.items():
            merged[value] = merged.get(value, 0) + count
    return merged


def percentile_ms(counts, p):
    """The p-th percentile of a histogram, ranked as wrk ranks it, in milliseconds."""
    total = sum(counts.values())
    rank = int(p / 100 * total + 0.5)
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value / 1000
    return max(counts) / 1000


POOLED = (50, 90, 99, 99.9)


def summarise(rows, out_dir):
    by_name = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    summary = {}
    for name, runs in by_name.items():
        summary[name] = {
            "rounds": len(runs),
            "rps": median(number(r["rps"]) for r in runs),
            "p50": median(number(r["p50_ms"]) for r in runs),
            "p99": median(number(r["p99_ms"]) for r in runs),
            "rss_kib": max((number(r["peak_rss_kib"]) or 0) for r in runs),
            "cpu_us": median(number(r["cpu_us_per_req"]) for r in runs),
            "errors": sum(int(number(r["errors"]) or 0) for r in runs),
            "non2xx": sum(int(number(r["non2xx"]) or 0) for r in runs),
            "requests": sum(int(number(r["requests"]) or 0) for r in runs),
            "log_lines": [r["log_lines"] for r in runs],
            "rps_all": [number(r["rps"]) for r in runs],
            "load_busy": median(number(r["load_core_busy"]) for r in runs),
            # Older result files have no kernel share.
            "sys_pct": median(number(r.get("cpu_sys_pct")) for r in runs),
            "steal_pct": median(number(r.get("proxy_core_steal_pct")) for r in runs),
        }
        summary[name]["pooled"] = pooled_percentiles(pooled_histogram(out_dir, name, runs))
        # Older result files have no paced run.
        summary[name]["paced"] = {
            "rps": median(number(r.get("paced_rps")) for r in runs),
            "p50": median(number(r.get("paced_p50_ms")) for r in runs),
            "p99": median(number(r.get("paced_p99_ms")) for r in runs),
            "pooled": pooled_percentiles(pooled_histogram(out_dir, name, runs, "paced.tsv")),
        }
    return summary


def pooled_percentiles(counts):
    if not counts:
        return None
    return {p: percentile_ms(counts, p) for p in POOLED} | {"max": max(counts) / 1000}


def fmt(value, spec, none="-"):
    return none if value is None else format(value, spec)


def ratio(a, b):
    return None if a is None or not b else a / b


def print_paced(summary, names, rate):
    """The latency table of the paced runs, where every peer was offered the same rate."""
    base = summary.get("nginx", {}).get("paced", {})
    offered = f"{rate:,.0f} requests a second offered; " if rate else ""
    print(f"Latency at equal load (paced run, {offered}medians of rounds, then pooled over all "
          "rounds, ms):")
    print()
    print("| proxy | req/s | p50 | p99 | pooled p50 | pooled p99 | pooled p99.9 | p99 vs nginx "
          "| pooled p99 vs nginx |")
    print("| --- |" + " ---: |" * 8)
    for name in names:
        s = summary[name]["paced"]
        pooled = s["pooled"] or {}
        mine = name != "direct"
        base_pooled = (base.get("pooled") or {}).get(99)
        print(f"| {LABELS.get(name, name)} | {fmt(s['rps'], ',.0f')} | {fmt(s['p50'], '.3f')} "
              f"| {fmt(s['p99'], '.3f')} | {fmt(pooled.get(50), '.3f')} | {fmt(pooled.get(99), '.3f')} "
              f"| {fmt(pooled.get(99.9), '.3f')} "
              f"| {fmt(ratio(s['p99'], base.get('p99')) if mine else None, '.2f')} "
              f"| {fmt(ratio(pooled.get(99), base_pooled) if mine else None, '.2f')} |")
    print()


def main():
    rows = read_rows(sys.argv[1])
    summary = summarise(rows, os.path.dirname(os.path.abspath(sys.argv[1])))
    names = [n for n in summary if n not in PEER_ORDER] + [n for n in PEER_ORDER if n in summary]
    nginx = summary.get("nginx", {})
    print("| proxy | req/s | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | kernel % | req/s vs nginx | p99 vs nginx | RSS vs nginx |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        s = summary[name]
        direct = name == "direct"
        label = LABELS.get(name, name)
        rss = None if direct else s["rss_kib"] / 1024
        print(
            f"| {label} | {fmt(s['rps'], ',.0f')} | {fmt(s['p50'], '.2f')} | {fmt(s['p99'], '.2f')} "
            f"| {fmt(rss, '.1f')} | {fmt(s['cpu_us'], '.1f')} | {fmt(s['sys_pct'], '.0f')} "
            f"| {fmt(None if direct else ratio(s['rps'], nginx.get('rps')), '.2f')} "
            f"| {fmt(None if direct else ratio(s['p99'], nginx.get('p99')), '.2f')} "
            f"| {fmt(None if direct else ratio(s['rss_kib'], nginx.get('rss_kib')), '.2f')} |"
        )
    print()
    pooled_names = [n for n in names if summary[n]["pooled"]]
    if pooled_names:
        print("Latency pooled over all rounds (every request of the run, ms):")
        print()
        print("| proxy | " + " | ".join(f"p{p:g}" for p in POOLED) + " | max | p99 vs nginx |")
        print("| --- |" + " ---: |" * (len(POOLED) + 2))
        base = (summary.get("nginx", {}).get("pooled") or {}).get(99)
        for name in pooled_names:
            pct = summary[name]["pooled"]
            print(f"| {LABELS.get(name, name)} | " + " | ".join(f"{pct[p]:.2f}" for p in POOLED)
                  + f" | {pct['max']:.1f} | "
                  + f"{fmt(None if name == 'direct' else ratio(pct[99], base), '.2f')} |")
        print()
    paced_names = [n for n in names if summary[n]["paced"]["p99"] is not None]
    if paced_names:
        # Older result files do not name the rate.
        print_paced(summary, paced_names, median(number(r.get("paced_rate")) for r in rows))
    steal = [summary[n]["steal_pct"] for n in names if summary[n]["steal_pct"] is not None]
    if steal and max(steal) >= 1:
        print(f"NOTE: the hypervisor took up to {max(steal):.1f}% of the proxy core (median per "
              "peer): those rounds lost time that no proxy could use")
    print("req/s per round: " + "; ".join(
        f"{n} " + ", ".join(fmt(v, ".0f") for v in summary[n]["rps_all"]) for n in names))
    for name in names:
        s = summary[name]
        if s["errors"] or s["non2xx"]:
            print(f"WARNING: {name}: {s['errors']} socket errors, {s['non2xx']} non-2xx responses")
    direct = summary.get("direct", {}).get("rps")
    for name in names:
        rps = summary[name]["rps"]
        # The relay is there to find the load core's limit: for it these are not warnings.
        if name not in ("direct", "relay") and direct and rps and rps > 0.85 * direct:
            print(f"WARNING: {name} reached {rps / direct:.0%} of the backend's direct rate: "
                  "the load core may be the limit, not the proxy")
    for name in names:
        busy = summary[name]["load_busy"]
        if name not in ("direct", "relay") and busy is not None and busy >= 95:
            print(f"WARNING: {name}: the load core was {busy:.0f}% busy (wrk, the backend and any "
                  "other work there): this peer's rate may have been limited by it")
    # The paced rate is the same for every peer; one that answered fewer did not take it, and
    # its latency there is not at an equal load.
    offered = max((summary[n]["paced"]["rps"] or 0) for n in names)
    for name in names:
        rps = summary[name]["paced"]["rps"]
        if rps is not None and rps < 0.98 * offered:
            print(f"WARNING: {name}: {rps:,.0f} req/s in the paced run against {offered:,.0f} for "
                  "another peer: it could not take the rate, so its latency there is not at an "
                  "equal load")
    tollgates = [n for n in names if n not in PEER_ORDER]
    for name in tollgates:
        lines = summary[name]["log_lines"]
        if all(l in ("0", "-") for l in lines):
            print(f"NOTE: {name}: accessLog.filePath wrote nothing: this build does not honour "
                  "accessLog yet, so it ran without an access log")
    if "nginx" in summary:
        for name in tollgates:
            rps = paired(rows, name, "nginx", "rps")
            p99 = paired(rows, name, "nginx", "p99_ms")
            cpu = paired(rows, name, "nginx", "cpu_us_per_req")
            paced = paired(rows, name, "nginx", "paced_p99_ms")
            if paced:
                print(f"paired by round, {name} / nginx at equal load: p99 {median(paced):.2f} "
                      f"(at or below in {sum(r <= 1 for r in paced)} of {len(paced)} rounds)")
            if rps:
                print(
                    f"paired by round, {name} / nginx: req/s {median(rps):.2f} "
                    f"(ahead in {sum(r >= 1 for r in rps)} of {len(rps)} rounds), "
                    f"p99 {median(p99):.2f} (at or below in {sum(r <= 1 for r in p99)} of {len(p99)}), "
                    f"CPU per request {fmt(median(cpu), '.2f')}"
                )
    print()
    for name in tollgates:
        s = summary[name]
        checks = []
        for peer in ("nginx", "haproxy"):
            if peer in summary:
                ok = (s["rps"] or 0) >= (summary[peer]["rps"] or 0)
                checks.append(f"req/s >= {peer}: {'yes' if ok else 'NO'}")
        if "nginx" in summary:
            checks.append(f"p99 <= nginx: {'yes' if (s['p99'] or 0) <= (nginx['p99'] or 0) else 'NO'}")
            if s["pooled"] and nginx.get("pooled"):
                mine, theirs = s["pooled"][99], nginx["pooled"][99]
                checks.append(f"pooled p99 <= nginx: {'yes' if mine <= theirs else 'NO'} "
                              f"({mine / theirs:.2f}x)")
            mine, theirs = s["paced"]["p99"], nginx["paced"]["p99"]
            if mine is not None and theirs:
                checks.append(f"p99 at equal load <= nginx: {'yes' if mine <= theirs else 'NO'} "
                              f"({mine / theirs:.2f}x)")
            checks.append(f"RSS <= nginx: {'yes' if s['rss_kib'] <= nginx['rss_kib'] else 'NO'}")
        print(f"budget, {name}: " + "; ".join(checks))


if __name__ == "__main__":
    main()
