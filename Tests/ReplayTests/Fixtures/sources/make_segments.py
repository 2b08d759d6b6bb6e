#!/usr/bin/env python3
"""Writes Kafka log segments and a Schema Registry export of the fixture traffic.

An independent implementation of Kafka's record batch format v2 writes the
batches: kafka-python's DefaultRecordBatchBuilder (PyPI kafka-python 3.0.x,
with `zstandard` for zstd). Run from this directory:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install kafka-python zstandard
    medallion-sim record traffic.yaml --capture traffic.jsonl     # the traffic, as medallion-sim records it
    /tmp/venv/bin/python make_segments.py

Reads traffic.jsonl; writes
  kafka-logs/<topic>-<partition>/<base offset, 20 digits>.log  (+ empty .index/.timeindex, never read)
  registry/ids/<id>.json, registry/subjects/<subject>/versions/<v>.json  (REST answers)
  registry-topic/_schemas-0/00000000000000000000.log  (the registry's own topic)
  expected.jsonl  the same traffic in medallion-sim's JSON Lines, with the offsets
                  and timestamps the segments give (what a replay must see)

Layout, chosen to exercise the reader:
  binance-0: gzip batches of 25 records, offsets from 1000, two segment files,
             records with headers
  binance-1: zstd batches of 25; one batch has log-append time (every record of
             it takes the batch's max timestamp)
  kraken-0:  uncompressed; a committed transaction (commit marker), then an
             aborted one (5 extra records + abort marker, not in expected.jsonl),
             then plain batches
Control records take offsets, so the offsets have gaps where markers are.
"""
import base64
import json
import os
import shutil
import struct

from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c

GZIP, ZSTD, NONE = 1, 4, 0
BATCH = 25
PRODUCER_ID, EPOCH = 4711, 0


def patch(buf, base_offset, extra_attributes=0):
    """Sets the base offset (the broker's job) and, when asked, attribute bits
    the producer-side builder never sets (log-append time, control)."""
    buf = bytearray(buf)
    struct.pack_into(">q", buf, 0, base_offset)
    struct.pack_into(">i", buf, 12, 7)  # partition leader epoch, as a broker stamps it
    if extra_attributes:
        (attrs,) = struct.unpack_from(">h", buf, 21)
        struct.pack_into(">h", buf, 21, attrs | extra_attributes)
        struct.pack_into(">I", buf, 17, calc_crc32c(memoryview(buf)[21:]))
    return bytes(buf)


def data_batch(base, records, codec, transactional=False, headers=()):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=codec, is_transactional=transactional,
                                  producer_id=PRODUCER_ID if transactional else -1,
                                  producer_epoch=EPOCH if transactional else -1,
                                  base_sequence=0 if transactional else -1, batch_size=1 << 20)
    for i, (ts, key, value) in enumerate(records):
        assert b.append(i, timestamp=ts, key=key, value=value, headers=list(headers)) is not None
    return b.build()


def control_batch(base, commit, ts):
    b = DefaultRecordBatchBuilder(magic=2, compression_type=NONE, is_transactional=True,
                                  producer_id=PRODUCER_ID, producer_epoch=EPOCH, base_sequence=-1,
                                  batch_size=1 << 20)
    key = struct.pack(">hh", 0, 1 if commit else 0)  # version 0, type: 0 abort, 1 commit
    value = struct.pack(">hi", 0, 0)                 # version 0, coordinator epoch
    b.append(0, timestamp=ts, key=key, value=value, headers=[])
    return patch(b.build(), base, 0x20)


def main():
    lines = [json.loads(l) for l in open("traffic.jsonl") if l.strip()]
    schemas = [l for l in lines if l["type"] == "schema"]
    msgs = [l for l in lines if l["type"] == "message"]
    by_part = {}
    for m in msgs:
        by_part.setdefault((m["topic"], m["partition"]), []).append(m)
    for k in by_part:
        by_part[k].sort(key=lambda m: m["offset"])

    for d in ("kafka-logs", "registry", "registry-topic"):
        shutil.rmtree(d, ignore_errors=True)
    expected = []

    def rec(m):
        key = base64.b64decode(m["key_b64"]) if m["key_b64"] is not None else None
        value = base64.b64decode(m["value_b64"]) if m["value_b64"] is not None else None
        return (m["timestamp_ms"], key, value)

    def out(m, offset, ts):
        expected.append({"type": "message", "topic": m["topic"], "partition": m["partition"], "offset": offset,
                         "timestamp_ms": ts, "key_b64": m["key_b64"], "value_b64": m["value_b64"]})

    def write_segments(topic, partition, segments):
        d = f"kafka-logs/{topic}-{partition}"
        os.makedirs(d)
        for base, batches in segments:
            name = f"{d}/{base:020d}"
            with open(name + ".log", "wb") as f:
                for b in batches:
                    f.write(b)
            open(name + ".index", "wb").close()
            open(name + ".timeindex", "wb").close()

    # binance-0: gzip, offsets from 1000, headers, two segments.
    ms = by_part[("market.crypto.trades.binance", 0)]
    offset, batches = 1000, []
    for i in range(0, len(ms), BATCH):
        chunk = ms[i:i + BATCH]
        batches.append((offset, patch(data_batch(offset, [rec(m) for m in chunk], GZIP,
                                                 headers=[("producer", b"feed-handler-2"), ("trace", None)]), offset)))
        for j, m in enumerate(chunk):
            out(m, offset + j, m["timestamp_ms"])
        offset += len(chunk)
    half = len(batches) // 2
    write_segments("market.crypto.trades.binance", 0,
                   [(batches[0][0], [b for _, b in batches[:half]]), (batches[half][0], [b for _, b in batches[half:]])])

    # binance-1: zstd, one batch with log-append time.
    ms = by_part[("market.crypto.trades.binance", 1)]
    offset, batches = 0, []
    for n, i in enumerate(range(0, len(ms), BATCH)):
        chunk = ms[i:i + BATCH]
        log_append = n == 1
        b = patch(data_batch(offset, [rec(m) for m in chunk], ZSTD), offset, 0x08 if log_append else 0)
        batches.append(b)
        max_ts = max(m["timestamp_ms"] for m in chunk)
        for j, m in enumerate(chunk):
            out(m, offset + j, max_ts if log_append else m["timestamp_ms"])
        offset += len(chunk)
    write_segments("market.crypto.trades.binance", 1, [(0, batches)])

    # kraken-0: a committed transaction, an aborted one, then plain batches.
    ms = by_part[("market.crypto.trades.kraken", 0)]
    offset, batches = 0, []
    committed, rest = ms[:2 * BATCH], ms[2 * BATCH:]
    for i in range(0, len(committed), BATCH):
        chunk = committed[i:i + BATCH]
        batches.append(patch(data_batch(offset, [rec(m) for m in chunk], NONE, transactional=True), offset))
        for j, m in enumerate(chunk):
            out(m, offset + j, m["timestamp_ms"])
        offset += len(chunk)
    last_ts = committed[-1]["timestamp_ms"]
    batches.append(control_batch(offset, True, last_ts)); offset += 1
    aborted = [(last_ts + k, b"BTC/USD", b"\x00\x00\x00\x00\x02aborted-%d" % k) for k in range(5)]
    batches.append(patch(data_batch(offset, aborted, NONE, transactional=True), offset)); offset += len(aborted)
    batches.append(control_batch(offset, False, last_ts + 5)); offset += 1
    for i in range(0, len(rest), BATCH):
        chunk = rest[i:i + BATCH]
        batches.append(patch(data_batch(offset, [rec(m) for m in chunk], NONE), offset))
        for j, m in enumerate(chunk):
            out(m, offset + j, m["timestamp_ms"])
        offset += len(chunk)
    write_segments("market.crypto.trades.kraken", 0, [(0, batches)])
    assert set(by_part) == {("market.crypto.trades.binance", 0), ("market.crypto.trades.binance", 1),
                            ("market.crypto.trades.kraken", 0)}, sorted(by_part)

    # The registry: REST answers, and its _schemas topic.
    versions = {}
    os.makedirs("registry/ids")
    topic_records = []
    for s in schemas:
        v = versions[s["subject"]] = versions.get(s["subject"], 0) + 1
        with open(f"registry/ids/{s['id']}.json", "w") as f:
            json.dump({"schema": s["schema"]}, f)
        d = f"registry/subjects/{s['subject']}/versions"
        os.makedirs(d, exist_ok=True)
        with open(f"{d}/{v}.json", "w") as f:
            json.dump({"subject": s["subject"], "version": v, "id": s["id"], "schema": s["schema"]}, f)
        key = json.dumps({"keytype": "SCHEMA", "subject": s["subject"], "version": v, "magic": 1}).encode()
        value = json.dumps({"subject": s["subject"], "version": v, "id": s["id"], "schema": s["schema"],
                            "deleted": False}).encode()
        topic_records.append((1_700_000_000_000 + len(topic_records), key, value))
    topic_records.insert(0, (1_699_999_999_999, json.dumps({"keytype": "NOOP", "magic": 0}).encode(), None))
    os.makedirs("registry-topic/_schemas-0")
    with open("registry-topic/_schemas-0/00000000000000000000.log", "wb") as f:
        f.write(patch(data_batch(0, topic_records, NONE), 0))

    with open("expected.jsonl", "w") as f:
        for s in schemas:
            f.write(json.dumps({"type": "schema", "id": s["id"], "subject": s["subject"], "schema": s["schema"]},
                               separators=(",", ":")) + "\n")
        for m in expected:
            f.write(json.dumps(m, separators=(",", ":")) + "\n")
    print(f"{len(expected)} messages, {len(schemas)} schemas")


if __name__ == "__main__":
    main()
