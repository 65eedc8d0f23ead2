"""bench/loop_ir.py: instructions per sample of statecastd's loop thread,
outside the model and the store, from callgrind's file of that thread (a
run with --separate-threads=yes: the file ending in -01). bench/loop3.sh
runs it.

    python3 bench/loop_ir.py CALLGRIND.OUT

Per sample = per call of io_graphite_parse (one per Graphite line: the
run's samples, counted in the file itself). Inclusive counts of:
  read   daemon/listen.c on_read (socket reads handed to the line
         splitter, parsing, the registry, series creation, queueing) less
         ssm_state_init (a new series' state, the model's)
  tick   daemon/tick.c srv_tick_run less ssm_model_step_batch (the model)
         and srv_sink_tick (the store's batches)
  loop   read + tick: the loop thread's own work per sample
  parse  io/graphite.c io_graphite_parse (in read)
  sink   daemon/sink.c srv_sink_tick (the copy of each sample into a store
         batch, daemon/persist.c)
  model  ssm_model_step_batch + ssm_state_init
Prints one line of key=value pairs (instructions per sample), then the
loop's costliest functions of io/lines.c, io/graphite.c and daemon/
(listen, tick, registry, sink), exclusive, one "fn=N" per line."""
import os
import re
import subprocess
import sys

PARTS = {
    "on_read": "daemon/listen.c",
    "srv_tick_run": "daemon/tick.c",
    "srv_sink_tick": "daemon/sink.c",
    "io_graphite_parse": "io/graphite.c",
    "ssm_model_step_batch": "ssm/model_step.c",
    "ssm_state_init": "ssm/model.c",
}
OWN = ("io/lines.c", "io/graphite.c", "daemon/listen.c", "daemon/tick.c",
       "daemon/registry.c", "daemon/sink.c")
LINE = re.compile(r"\s*([\d,]+)\s+\([^)]*\)\s+(\S+):(\S+)")


def counts(path, inclusive):
    """{(file, fn): instructions} from callgrind_annotate. It runs from /:
    from the tree's own directory it would also find the sources by their
    relative names and list a function twice (./daemon/x.c and the full
    path), which this would add up."""
    out = subprocess.run(["callgrind_annotate", "--auto=no",
                          "--threshold=100",
                          "--inclusive=" + ("yes" if inclusive else "no"),
                          os.path.abspath(path)], capture_output=True,
                         text=True,
                         cwd="/").stdout
    got = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        key = (m.group(2), m.group(3).split("'")[0])
        got[key] = got.get(key, 0) + int(m.group(1).replace(",", ""))
    return got


def calls_of(path, fn):
    """Calls to fn recorded in a callgrind file (name compression:
    "cfn=(id) name" once, "cfn=(id)" after; each cfn= line is followed by
    its "calls=COUNT ..." line)."""
    names, total, cur = {}, 0, None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line.rstrip("\n"))
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    name = names.get(m.group(1))
                else:
                    name = line.split("=", 1)[1].strip()
                cur = name if line.startswith("cfn=") else None
            elif line.startswith("calls=") and cur == fn:
                total += int(line[6:].split()[0])
                cur = None
    return total


def part(got, fn):
    return sum(v for (f, name), v in got.items()
               if name == fn and f.endswith(PARTS[fn]))


def main():
    path = sys.argv[1]
    n = float(calls_of(path, "io_graphite_parse"))
    if n == 0:
        sys.exit("loop_ir: no Graphite line parsed in " + path)
    inc = counts(path, True)
    p = {fn: part(inc, fn) for fn in PARTS}
    read = p["on_read"] - p["ssm_state_init"]
    tick = p["srv_tick_run"] - p["ssm_model_step_batch"] - p["srv_sink_tick"]
    fig = {"loop": read + tick, "read": read, "tick": tick,
           "parse": p["io_graphite_parse"], "sink": p["srv_sink_tick"],
           "model": p["ssm_model_step_batch"] + p["ssm_state_init"]}
    print("samples=%.0f " % n +
          " ".join("%s=%.0f" % (k, v / n) for k, v in fig.items()))
    exc = counts(path, False)
    own = sorted(((v, name) for (f, name), v in exc.items()
                  if f.endswith(OWN)), reverse=True)
    for v, name in own[:12]:
        print("%s=%.0f" % (name, v / n))


main()
