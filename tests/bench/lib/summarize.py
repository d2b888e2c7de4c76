#!/usr/bin/env python3
"""Summary of a bench run: one row per ladder from OUT/steps.jsonl.

  summarize.py OUT [--md]

  max_rate   highest target rate whose step passed (lib/stepstats.py rule)
  knee_rate  highest passing rate whose rtd-1 p99 is <= 10 ms
  cpu        daemons' CPU (% of one core) and per call (us) at those rates
  other      most CPU used by processes outside the bench in any step
"""
import json
import os
import sys


def fmt(v, nd=0):
    if v is None:
        return "-"
    if isinstance(v, float) and nd == 0:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, nd) if isinstance(v, float) else str(v)


def main():
    out = sys.argv[1]
    md = "--md" in sys.argv
    rows = {}
    with open(os.path.join(out, "steps.jsonl")) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows.setdefault(r["name"], []).append(r)
    head = ["ladder", "max_rate/s", "knee_rate/s (p99<=10ms)", "first_fail", "rtd1 p50/p99 at max (ms)",
            "daemons CPU % at max (knee)", "CPU us/call at max (knee)", "gen+uas CPU % at max",
            "RSS MB at max", "other_cpu % max"]
    table = []
    for name, steps in rows.items():
        passed = [s for s in steps if s["pass"]]
        failed = [s for s in steps if not s["pass"]]
        best = max(passed, key=lambda s: s["target_rate"]) if passed else None
        knees = [s for s in passed if (s.get("rtd1_p99_ms") or 0) <= 10]
        knee = max(knees, key=lambda s: s["target_rate"]) if knees else None
        # the lowest rate that failed after every lower rate passed
        ff = None
        for s in sorted(failed, key=lambda s: s["target_rate"]):
            if not best or s["target_rate"] > best["target_rate"]:
                ff = s
                break
        other = max((s["other_cpu_pct"] or 0) for s in steps)
        table.append([
            name,
            fmt(best["target_rate"]) if best else "none",
            fmt(knee["target_rate"]) if knee else "none",
            "%s (%s)" % (fmt(ff["target_rate"]), ff["why"]) if ff else "-",
            "%s / %s" % (fmt(best.get("rtd1_p50_ms")), fmt(best.get("rtd1_p99_ms"))) if best else "-",
            "%s (%s)" % (fmt(best["sut_cpu_pct"], 1), fmt(knee["sut_cpu_pct"], 1) if knee else "-") if best else "-",
            "%s (%s)" % (fmt(best.get("sut_us_per_call"), 1), fmt(knee.get("sut_us_per_call"), 1) if knee else "-")
            if best else "-",
            "%s + %s" % (fmt(best["gen_cpu_pct"], 1), fmt(best["uas_cpu_pct"], 1)) if best else "-",
            fmt(best["sut_rss_mb"], 1) if best else "-",
            fmt(other, 1),
        ])
    if md:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in table:
            print("| " + " | ".join(r) + " |")
    else:
        w = [max(len(str(x)) for x in col) for col in zip(head, *table)]
        for r in [head] + table:
            print("  ".join(str(x).ljust(n) for x, n in zip(r, w)))


if __name__ == "__main__":
    main()
