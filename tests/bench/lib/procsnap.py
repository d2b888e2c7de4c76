#!/usr/bin/env python3
"""CPU snapshot of every process on the machine, to measure load from outside
a benchmark on a shared machine.

  procsnap.py OUT.json ROOT_PID [ROOT_PID ...]

OUT.json maps pid -> [ppid, comm, utime+stime clock ticks, inside], where
'inside' is true for the ROOT_PIDs and all their descendants (the benchmark
itself and the daemons it started). stepstats.py subtracts two snapshots.
"""
import json
import os
import sys


def read_procs():
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                raw = f.read()
        except OSError:
            continue
        # comm may hold spaces and parentheses: split around the last ')'
        close = raw.rfind(")")
        comm = raw[raw.find("(") + 1:close]
        fields = raw[close + 2:].split()
        procs[int(name)] = [int(fields[1]), comm, int(fields[11]) + int(fields[12]), False]
    return procs


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: procsnap.py OUT.json ROOT_PID...")
    roots = {int(a) for a in sys.argv[2:] if a.isdigit()}
    procs = read_procs()
    for pid in roots & procs.keys():
        procs[pid][3] = True
    grew = True
    while grew:
        grew = False
        for p in procs.values():
            if not p[3] and p[0] in procs and procs[p[0]][3]:
                p[3] = grew = True
    with open(sys.argv[1], "w") as f:
        json.dump(procs, f)


if __name__ == "__main__":
    main()
