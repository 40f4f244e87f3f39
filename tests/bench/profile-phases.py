#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The phases of one hutch command, from the "hutch-profile PID WALL USER SYS
# PHASE" lines HUTCH_PROFILE=1 makes (src/util/profile.c), over several
# runs: each phase is the time from the mark before it (in any process) to
# its own mark; its CPU is its process's CPU since that process's previous
# mark (a process's first mark carries all it used before it). Prints the
# median of each phase over the runs, in the order of the first run.
#
# usage: profile-phases.py RUN1.log RUN2.log ...
import statistics
import sys


def phases(path):
    marks = []
    for line in open(path, errors="replace"):
        f = line.split(None, 5)
        if len(f) == 6 and f[0] == "hutch-profile":
            marks.append((float(f[2]), f[1], float(f[3]), float(f[4]), f[5].strip()))
    marks.sort()
    out, last_cpu, seen = [], {}, {}
    for i, (t, pid, user, sys_, name) in enumerate(marks):
        wall = t - marks[i - 1][0] if i > 0 else 0.0
        pu, ps = last_cpu.get(pid, (0.0, 0.0))
        last_cpu[pid] = (user, sys_)
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(((name, n), wall, user - pu, sys_ - ps))
    return out


runs = [phases(p) for p in sys.argv[1:]]
order = [k for k, *_ in runs[0]]
table = {k: ([], [], []) for k in order}
for r in runs:
    for k, wall, user, sys_ in r:
        if k in table:
            for col, v in zip(table[k], (wall, user, sys_)):
                col.append(v)
print("%-44s %8s %8s %8s" % ("phase (ends at this mark)", "wall ms", "user ms", "sys ms"))
total = 0.0
for k in order:
    name = k[0] + ("" if k[1] == 0 else " #%d" % (k[1] + 1))
    w, u, s = (statistics.median(c) * 1000 for c in table[k])
    total += w
    print("%-44s %8.1f %8.1f %8.1f" % (name, w, u, s))
print("%-44s %8.1f" % ("sum of the medians", total))
