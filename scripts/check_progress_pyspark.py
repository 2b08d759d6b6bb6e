#!/usr/bin/env python3
"""Reads progress logs (JSON Lines of Spark StreamingQueryProgress objects)
with PySpark's own classes and fails on anything Spark would not produce.

Every line must parse with pyspark.sql.streaming.listener.StreamingQueryProgress
.fromJson (which needs id/runId as UUIDs, every required key, and builds the
StateOperatorProgress, SourceProgress and SinkProgress objects), and every
field must have the JSON type Spark writes (integers for counts and
durations, doubles for rates, strings in Spark's timestamp format, ...).
The same checks run on real Spark output (the committed PySpark fixtures), so
they are known to accept what Spark writes.

    python check_progress_pyspark.py FILE.jsonl ...
"""
import json
import re
import sys
import uuid

from pyspark.sql.streaming.listener import StreamingQueryProgress

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DURATION_KEYS = {"latestOffset", "queryPlanning", "getBatch", "walCommit", "addBatch", "commitOffsets",
                 "triggerExecution"}
STATE_INT = ["numRowsTotal", "numRowsUpdated", "allUpdatesTimeMs", "numRowsRemoved", "allRemovalsTimeMs",
             "commitTimeMs", "memoryUsedBytes", "numRowsDroppedByWatermark", "numShufflePartitions",
             "numStateStoreInstances"]


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check(obj, where):
    problems = []

    def need(cond, what):
        if not cond:
            problems.append(what)

    p = StreamingQueryProgress.fromJson(obj)          # Spark's own reader
    need(isinstance(p.id, uuid.UUID) and isinstance(p.runId, uuid.UUID), "id/runId")
    need(isinstance(obj["name"], str), "name is a string")
    need(isinstance(obj["timestamp"], str) and TS.match(obj["timestamp"]), "timestamp format")
    for k in ("batchId", "batchDuration", "numInputRows"):
        need(is_int(obj.get(k)), k + " is an integer")
    for k in ("inputRowsPerSecond", "processedRowsPerSecond"):
        need(k not in obj or isinstance(obj[k], float), k + " is a double")
    d = obj["durationMs"]
    need(isinstance(d, dict) and all(is_int(v) and v >= 0 for v in d.values()), "durationMs values are integers")
    need("triggerExecution" in d, "durationMs.triggerExecution")
    need(set(d) <= DURATION_KEYS | {"setOffsetRange", "getOffset", "getEndOffset"}, "durationMs keys: %s" % sorted(d))
    if "addBatch" in d:   # a batch that ran has every phase
        need(DURATION_KEYS <= set(d), "a batch that ran has all of %s" % sorted(DURATION_KEYS))
    if "eventTime" in obj:
        ev = obj["eventTime"]
        need(set(ev) <= {"min", "max", "avg", "watermark"} and all(TS.match(v) for v in ev.values()),
             "eventTime: timestamps")
        need(("min" in ev) == ("max" in ev) == ("avg" in ev), "eventTime: min, max, avg together")
        if "min" in ev:
            need(ev["min"] <= ev["avg"] <= ev["max"], "eventTime: min <= avg <= max")
            need(obj["numInputRows"] > 0, "eventTime min/max/avg only for a batch with rows")
    for s in obj["stateOperators"]:
        need(isinstance(s["operatorName"], str), "operatorName")
        need(all(is_int(s[k]) for k in STATE_INT), "stateOperators counts are integers")
        need("customMetrics" not in s or all(is_int(v) for v in s["customMetrics"].values()), "customMetrics")
    rows = 0
    for s in obj["sources"]:
        need(isinstance(s["description"], str), "source description")
        for k in ("startOffset", "endOffset", "latestOffset"):
            need(s[k] is None or isinstance(s[k], (dict, str)), "source " + k)
        need(is_int(s["numInputRows"]), "source numInputRows")
        for k in ("inputRowsPerSecond", "processedRowsPerSecond"):
            need(k not in s or isinstance(s[k], float), "source " + k)
        need("metrics" not in s or all(isinstance(v, str) for v in s["metrics"].values()), "source metrics are strings")
        rows += s["numInputRows"]
    need(rows == obj["numInputRows"], "numInputRows is the sum over sources")
    need(isinstance(obj["sink"]["description"], str) and is_int(obj["sink"].get("numOutputRows")), "sink")
    if problems:
        raise SystemExit("%s: %s" % (where, "; ".join(problems)))


def main(paths):
    total = 0
    for path in paths:
        runs = {}
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                obj = json.loads(line)
                check(obj, "%s:%d" % (path, n))
                runs.setdefault(obj["id"], set()).add(obj["runId"])
                total += 1
        if len(runs) != 1:
            raise SystemExit("%s: %d query ids in one query's log" % (path, len(runs)))
    print("%d progress objects in %d files parsed by PySpark's StreamingQueryProgress" % (total, len(paths)))


if __name__ == "__main__":
    main(sys.argv[1:])
