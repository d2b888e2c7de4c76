#!/usr/bin/env python3
"""Figures and verdict of one load step (tests/bench/lib/ladder.sh).

  stepstats.py STEP_DIR      -> one JSON line on stdout

Reads from STEP_DIR:
  meta.env        KEY=VALUE lines written by ladder.sh (name, rate, planned
                  calls, CPU ticks of the daemons and the UAS, wall time)
  load_stat.csv   sipp -trace_stat of the load generator (last line = totals)
  *_rtt.csv       sipp -trace_rtt (response times in whole ms, per rtd)
  procs0.json, procs1.json   procsnap.py before / after the step

Pass rule (the one of the Kamailio reference bench, so figures compare):
  failed + never-finished calls <= MAX_FAIL_PCT % of the planned calls,
  retransmissions <= MAX_RETRANS_PCT % of the planned calls,
  achieved rate (spread of the rtd-1 completions) >= MIN_RATE_PCT % of target.
"""
import glob
import json
import os
import sys


def percentile(values, p):
    """Nearest-rank percentile of a list, None when empty."""
    if not values:
        return None
    s = sorted(values)
    rank = int(-(-p * len(s) // 100))  # ceil(p/100 * n)
    return s[min(len(s), max(1, rank)) - 1]


def kv_file(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                key, sep, val = line.strip().partition("=")
                if sep:
                    out[key] = val
    return out


def last_stat(path):
    """Header -> value of the last line of a sipp statistics file."""
    if not os.path.exists(path):
        return {}
    with open(path, errors="replace") as f:
        rows = [l.rstrip("\n") for l in f if l.strip()]
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0].split(";"), rows[-1].split(";")))


def rtts(step_dir):
    """{rtd number: [(completion time ms, response time ms)]} from sipp rtt files."""
    out = {}
    for path in glob.glob(os.path.join(step_dir, "*_rtt.csv")):
        with open(path, errors="replace") as f:
            for line in f:
                cols = line.strip().split(";")
                if len(cols) < 3 or not cols[0][:1].isdigit():
                    continue
                try:
                    out.setdefault(cols[2], []).append((float(cols[0]), float(cols[1])))
                except ValueError:
                    continue
    return out


def other_cpu(step_dir, tck, wall):
    """CPU % (of one core) used during the step by processes outside the bench."""
    p0, p1 = os.path.join(step_dir, "procs0.json"), os.path.join(step_dir, "procs1.json")
    if not (os.path.exists(p0) and os.path.exists(p1)) or wall <= 0:
        return None, ""
    with open(p0) as f:
        before = json.load(f)
    with open(p1) as f:
        after = json.load(f)
    per_comm = {}
    for pid, (_ppid, comm, ticks, inside) in after.items():
        if inside:
            continue
        old = before.get(pid)
        # a pid reused by another program starts from zero
        start = old[2] if old and old[1] == comm else 0
        if ticks > start:
            per_comm[comm] = per_comm.get(comm, 0) + ticks - start
    pct = {c: 100.0 * t / tck / wall for c, t in per_comm.items()}
    top = sorted(pct.items(), key=lambda kv: -kv[1])[:3]
    return round(sum(pct.values()), 1), ",".join("%s:%.0f%%" % kv for kv in top if kv[1] >= 1)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: stepstats.py STEP_DIR")
    d = sys.argv[1]
    max_fail = float(os.environ.get("MAX_FAIL_PCT", "0.01"))
    max_retr = float(os.environ.get("MAX_RETRANS_PCT", "1"))
    min_rate = float(os.environ.get("MIN_RATE_PCT", "95"))
    meta = kv_file(os.path.join(d, "meta.env"))
    st = last_stat(os.path.join(d, "load_stat.csv"))

    def stat(key):
        try:
            return int(float(st.get(key, 0)))
        except ValueError:
            return 0

    rate = float(meta.get("RATE", 0))
    planned = int(meta.get("CALLS", 0))
    created, ok, failed = stat("OutgoingCall(C)"), stat("SuccessfulCall(C)"), stat("FailedCall(C)")
    retrans = stat("Retransmissions(C)")
    unfinished = max(0, planned - ok - failed)
    fail_pct = 100.0 * (failed + unfinished) / planned if planned else 100.0
    retr_pct = 100.0 * retrans / planned if planned else 0.0
    r = {"name": meta.get("NAME"), "target_rate": rate, "planned": planned, "created": created,
         "ok": ok, "failed": failed, "unfinished": unfinished, "fail_pct": round(fail_pct, 4),
         "retrans": retrans, "retrans_pct": round(retr_pct, 3), "sipp_rc": int(meta.get("LOAD_RC", -1))}

    times = rtts(d)
    first = times.get("1", [])
    r["achieved_rate"] = None
    if len(first) > 1:
        span = (max(t for t, _ in first) - min(t for t, _ in first)) / 1000.0
        if span > 0:
            r["achieved_rate"] = round((len(first) - 1) / span, 1)
    for rtd, vals in sorted(times.items()):
        rt = [v for _, v in vals]
        r["rtd%s_p50_ms" % rtd] = percentile(rt, 50)
        r["rtd%s_p99_ms" % rtd] = percentile(rt, 99)
        r["rtd%s_max_ms" % rtd] = max(rt)

    tck = float(meta.get("CLK_TCK", 100))
    wall = float(meta.get("WALL_S", 0) or 0)

    def ticks_pct(a, b):
        try:
            return round(100.0 * (float(meta[b]) - float(meta[a])) / tck / wall, 1)
        except (KeyError, ValueError, ZeroDivisionError):
            return None

    r["sut_cpu_pct"] = ticks_pct("SUT_TICKS0", "SUT_TICKS1")
    r["uas_cpu_pct"] = ticks_pct("UAS_TICKS0", "UAS_TICKS1")
    # per daemon: SUT_EACH0/1 = "comm=ticks,..." in SUT_PIDS order
    try:
        a = [kv.split("=") for kv in meta["SUT_EACH0"].split(",") if kv]
        b = [kv.split("=") for kv in meta["SUT_EACH1"].split(",") if kv]
        r["sut_split"] = ",".join("%s:%.1f%%" % (n1, 100.0 * (int(t1) - int(t0)) / tck / wall)
                                  for (n0, t0), (n1, t1) in zip(a, b) if n0 == n1)
    except (KeyError, ValueError, ZeroDivisionError):
        r["sut_split"] = None
    try:
        gen_wall = float(meta["GEN_WALL_S"])
        r["gen_cpu_pct"] = round(100.0 * (float(meta["GEN_UTIME"]) + float(meta["GEN_STIME"])) / gen_wall, 1)
    except (KeyError, ValueError, ZeroDivisionError):
        r["gen_cpu_pct"] = None
    # CPU of the daemons per completed call, in microseconds
    if r["sut_cpu_pct"] is not None and r["achieved_rate"]:
        r["sut_us_per_call"] = round(r["sut_cpu_pct"] / 100.0 / r["achieved_rate"] * 1e6, 1)
    r["sut_rss_mb"] = float(meta["SUT_RSS_MB"]) if meta.get("SUT_RSS_MB") else None
    r["other_cpu_pct"], r["other_top"] = other_cpu(d, tck, wall)

    ach_ok = r["achieved_rate"] is not None and r["achieved_rate"] >= rate * min_rate / 100.0
    r["pass"] = bool(fail_pct <= max_fail and retr_pct <= max_retr and ach_ok and created >= planned)
    why = []
    if fail_pct > max_fail:
        why.append("fail%%=%.3f" % fail_pct)
    if retr_pct > max_retr:
        why.append("retrans%%=%.2f" % retr_pct)
    if not ach_ok:
        why.append("achieved=%s" % r["achieved_rate"])
    if created < planned:
        why.append("created=%d<%d" % (created, planned))
    r["why"] = ",".join(why)
    print(json.dumps(r, sort_keys=True))


if __name__ == "__main__":
    main()
