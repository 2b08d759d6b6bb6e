#!/usr/bin/env python3
"""Real Spark runs for `medallion-sim calibrate`: PySpark in local mode runs two
queries shaped like the pipeline's on traffic this script writes at controlled
arrival rates, and saves what Spark reported (its StreamingQueryProgress
objects) and exactly what each query received, with arrival times.

Queries (one Spark driver per run, both queries in it, local[2]):
  silver  a Silver-like query: reads files of Kafka-like records whose values
          are Confluent-framed Avro (magic 0, 4-byte schema id, Avro body),
          decodes and validates each row in a Python UDF (fastavro), and writes
          valid rows and DLQ rows (with the reason) as two Parquet outputs
          through foreachBatch.
  gold    the design record's Gold query: two inputs (silver_binance and
          silver_kraken rows as JSON files), event_timestamp =
          from_unixtime(timestamp / 1e6), 5-minute watermark on each, union,
          dropDuplicates("message_id"), exchange_date / exchange_hour
          partition columns, written as Parquet partitioned by both.

Runs: three steady rates and one ramp (Binance rows/s; Kraken at a tenth),
each long enough for 30+ batches at the trigger. A file lands every 0.5 s
(written elsewhere, then renamed into the watched directory: the rename is the
arrival). About 1% of the Avro values are malformed (DLQ), 1% of Gold's rows
are resent duplicates and 0.5% are 8 minutes old (late after warm-up).

Outputs, per run, under --out (default: this directory):
  <run>/silver.progress.jsonl   one StreamingQueryProgress JSON per line
  <run>/gold.progress.jsonl     (query.recentProgress, Spark's own JSON)
  <run>/driver.log              the driver's "Streaming query made progress"
                                log entries (log4j, INFO), nothing else
  <run>/capture.jsonl.zst       the input as a medallion-sim capture (schema
                                lines, then one message line per record, with
                                append_time_us = the arrival instant)
  <run>/conditions.json         load average, cores, versions, rates

Regenerate (outputs are committed; CI never runs Spark):
    python3 -m venv .build-venv/pyspark
    .build-venv/pyspark/bin/pip install pyspark==4.3.0 fastavro==1.13.1
    nice -n 10 .build-venv/pyspark/bin/python \
        Tests/PlanningTests/Fixtures/spark/make_spark_runs.py [--only RUN]

The traffic is deterministic (seeded); the timings are whatever Spark took on
the machine at the time (conditions.json records them).
"""
import argparse
import base64
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
BINANCE = "market.crypto.trades.binance"
KRAKEN = "market.crypto.trades.kraken"
TRIGGER_S = 4
SECONDS = 240         # traffic per run after the start-up batch: 60 triggers (batches take longer on a busy machine)
FILE_EVERY_S = 0.5
RUNS = {
    # name: (rate at start, rate at end) in Binance rows per second
    "steady-20": (20, 20),
    "steady-60": (60, 60),
    "steady-150": (150, 150),
    "ramp-20-300": (20, 300),
    # Heavier traffic, where the per-row cost shows next to the per-batch
    # one; 150 s of it keeps the captures small.
    "steady-600": (600, 600, 150),
    "steady-1200": (1200, 1200, 150),
}

SCHEMA = {"type": "record", "name": "Trade", "namespace": "market.crypto", "fields": [
    {"name": "message_id", "type": "string"},
    {"name": "trade_id", "type": "string"},
    {"name": "symbol", "type": "string"},
    {"name": "exchange", "type": "string"},
    {"name": "asset_class", "type": "string"},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 8}},
    {"name": "quantity", "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 8}},
    {"name": "currency", "type": "string"},
    {"name": "side", "type": {"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}},
    {"name": "trade_conditions", "type": {"type": "array", "items": "string"}, "default": []},
    {"name": "source_sequence", "type": ["null", "long"], "default": None},
    {"name": "ingestion_timestamp", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "platform_sequence", "type": ["null", "long"], "default": None},
    {"name": "vendor_data", "type": ["null", {"type": "map", "values": "string"}], "default": None},
]}
SCHEMA_ID = 2
SCHEMA_JSON = json.dumps(SCHEMA)

LOG4J = """rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
logger.progress.name = org.apache.spark.sql.execution.streaming.runtime.ProgressReporter
logger.progress.level = info
logger.progress2.name = org.apache.spark.sql.execution.streaming.ProgressReporter
logger.progress2.level = info
logger.mbe.name = org.apache.spark.sql.execution.streaming.runtime.MicroBatchExecution
logger.mbe.level = info
"""


# ---------------------------------------------------------------- the UDF
def decode_and_validate(value_b64):
    """Per row, as the production Silver job does: parse the writer schema,
    decode the Confluent-framed value, validate. Returns (ok, reason, fields)."""
    import fastavro
    from decimal import Decimal
    try:
        raw = base64.b64decode(value_b64)
    except Exception:
        return (False, "BAD_BASE64", None, None, None, None, None, None)
    if len(raw) < 5 or raw[0] != 0:
        return (False, "BAD_MAGIC_BYTE", None, None, None, None, None, None)
    sid = struct.unpack(">I", raw[1:5])[0]
    if sid != SCHEMA_ID:
        return (False, "UNKNOWN_SCHEMA_ID", None, None, None, None, None, None)
    try:
        schema = fastavro.parse_schema(json.loads(SCHEMA_JSON))
        rec = fastavro.schemaless_reader(io.BytesIO(raw[5:]), schema)
    except Exception:
        return (False, "AVRO_DECODE_ERROR", None, None, None, None, None, None)
    if rec["price"] <= Decimal(0):
        return (False, "NON_POSITIVE_PRICE", None, None, None, None, None, None)
    if rec["quantity"] <= Decimal(0):
        return (False, "NON_POSITIVE_QUANTITY", None, None, None, None, None, None)
    try:
        uuid.UUID(rec["message_id"])
    except ValueError:
        return (False, "BAD_MESSAGE_ID", None, None, None, None, None, None)
    ts = rec["timestamp"]
    ts_us = int(ts.timestamp() * 1_000_000) if hasattr(ts, "timestamp") else int(ts)
    return (True, None, rec["message_id"], rec["symbol"], ts_us, str(rec["price"]), str(rec["quantity"]),
            rec["side"])


# ---------------------------------------------------------------- traffic
def encode(rec):
    import fastavro
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(SCHEMA), rec)
    return b"\x00" + struct.pack(">I", SCHEMA_ID) + buf.getvalue()


class Traffic:
    """Seeded trades: Binance at the run's rate, Kraken at a tenth."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seq = 0
        self.sent = []  # message ids already sent, for duplicates

    def trade(self, exchange, now_s):
        from datetime import datetime, timezone
        from decimal import Decimal
        r = self.rng
        self.seq += 1
        if self.sent and r.random() < 0.01:
            mid = r.choice(self.sent[-500:])            # a resend: Gold drops it
        else:
            mid = str(uuid.UUID(int=r.getrandbits(128), version=4))
            self.sent.append(mid)
        age = 480.0 if r.random() < 0.005 else r.uniform(0.05, 0.5)   # some 8 minutes late
        ev = datetime.fromtimestamp(now_s - age, tz=timezone.utc)
        return {
            "message_id": mid, "trade_id": "T%d" % self.seq,
            "symbol": "BTCUSDT" if exchange == "BINANCE" else "BTC/USD", "exchange": exchange,
            "asset_class": "crypto", "timestamp": ev,
            "price": Decimal("%d.%08d" % (r.randint(60000, 70000), r.randint(0, 99999999))),
            "quantity": Decimal("0.%08d" % r.randint(1, 99999999)), "currency": "USDT", "side": r.choice(["BUY", "SELL"]),
            "trade_conditions": [], "source_sequence": self.seq,
            "ingestion_timestamp": datetime.fromtimestamp(now_s, tz=timezone.utc),
            "platform_sequence": None, "vendor_data": None,
        }


def feeder(run_dir, rates, seconds, capture, offsets, seed, errors, warm, go, done):
    """Writes a warm-up file (10 rows per exchange), waits for `go` (both
    queries finished their start-up batch), then one file per FILE_EVERY_S
    into each watched directory for `seconds`, at the run's rates."""
    try:
        tr = Traffic(seed)
        rng = random.Random(seed + 1)
        staging = os.path.join(run_dir, "staging")
        os.makedirs(staging, exist_ok=True)

        def emit(k, counts):
            for topic, exch in ((BINANCE, "BINANCE"), (KRAKEN, "KRAKEN")):
                n = counts[topic]
                if n == 0:
                    continue
                now_s = time.time()
                recs = []
                for _ in range(n):
                    rec = tr.trade(exch, now_s)
                    value = encode(rec)
                    if rng.random() < 0.01:
                        value = value[: rng.randint(6, 30)]       # malformed: cut short
                    off = offsets[topic]
                    offsets[topic] += 1
                    recs.append((off, value, rec))
                name = "%s-%06d.json" % (exch.lower(), k)
                # The Silver-like query's input: Kafka-like records.
                kp = os.path.join(staging, "k-" + name)
                with open(kp, "w") as f:
                    for off, value, rec in recs:
                        f.write(json.dumps({"topic": topic, "partition": 0, "offset": off,
                                            "timestamp": int(now_s * 1000),
                                            "value": base64.b64encode(value).decode()}) + "\n")
                # Gold's inputs: the same trades as silver rows (the valid ones).
                sp = os.path.join(staging, "s-" + name)
                with open(sp, "w") as f:
                    for off, value, rec in recs:
                        if len(value) < 40:
                            continue
                        f.write(json.dumps({
                            "message_id": rec["message_id"], "trade_id": rec["trade_id"], "symbol": rec["symbol"],
                            "exchange": rec["exchange"], "asset_class": "crypto",
                            "timestamp": int(rec["timestamp"].timestamp() * 1_000_000),
                            "price": str(rec["price"]), "quantity": str(rec["quantity"]),
                            "currency": rec["currency"], "side": rec["side"]}) + "\n")
                arrival = time.time()
                if exch == "BINANCE":
                    os.rename(kp, os.path.join(run_dir, "in", "kafka", name))
                else:
                    os.remove(kp)   # the Silver-like query reads Binance only
                os.rename(sp, os.path.join(run_dir, "in", "silver_" + exch.lower(), name))
                arrival_us = int(arrival * 1_000_000)
                for off, value, rec in recs:
                    capture.append((topic, off, arrival_us, value))

        emit(0, {BINANCE: 10, KRAKEN: 10})
        warm.set()
        go.wait()
        start = time.time()
        carry = {BINANCE: 0.0, KRAKEN: 0.0}
        k = 1
        while True:
            due = start + (k - 1) * FILE_EVERY_S
            if due >= start + seconds:
                break
            time.sleep(max(0.0, due - time.time()))
            frac = min(1.0, (due - start) / seconds)
            rate = rates[0] + (rates[1] - rates[0]) * frac
            counts = {}
            for topic, r in ((BINANCE, rate), (KRAKEN, rate / 10.0)):
                carry[topic] += r * FILE_EVERY_S
                counts[topic] = int(carry[topic])
                carry[topic] -= counts[topic]
            emit(k, counts)
            k += 1
    except Exception as e:  # surfaced by the main thread
        errors.append(repr(e))
    finally:
        warm.set()
        done.set()


# ---------------------------------------------------------------- one run
def run_one(name, out_root):
    from pyspark.sql import SparkSession, functions as F, types as T

    rates = RUNS[name][:2]
    seconds = RUNS[name][2] if len(RUNS[name]) > 2 else SECONDS
    out = os.path.join(out_root, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    work = tempfile.mkdtemp(prefix="spark-calib-")
    for d in ("in/kafka", "in/silver_binance", "in/silver_kraken"):
        os.makedirs(os.path.join(work, d))

    spark = (SparkSession.builder.master("local[2]").appName("calibrate-" + name)
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.streaming.numRecentProgressUpdates", "1000")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .getOrCreate())

    kafka_schema = T.StructType([
        T.StructField("topic", T.StringType()), T.StructField("partition", T.IntegerType()),
        T.StructField("offset", T.LongType()), T.StructField("timestamp", T.LongType()),
        T.StructField("value", T.StringType())])
    silver_schema = T.StructType([T.StructField(c, T.StringType()) for c in
                                  ("message_id", "trade_id", "symbol", "exchange", "asset_class")]
                                 + [T.StructField("timestamp", T.LongType())]
                                 + [T.StructField(c, T.StringType()) for c in
                                    ("price", "quantity", "currency", "side")])
    result = T.StructType([
        T.StructField("ok", T.BooleanType()), T.StructField("reason", T.StringType()),
        T.StructField("message_id", T.StringType()), T.StructField("symbol", T.StringType()),
        T.StructField("ts_us", T.LongType()), T.StructField("price", T.StringType()),
        T.StructField("quantity", T.StringType()), T.StructField("side", T.StringType())])
    decode = F.udf(decode_and_validate, result)

    silver_out = os.path.join(work, "out/silver")
    dlq_out = os.path.join(work, "out/dlq")

    def write_batch(df, batch_id):
        d = df.withColumn("r", decode(F.col("value"))).cache()
        (d.where("r.ok").select("topic", "partition", "offset", "r.*").drop("ok", "reason")
         .withColumn("validation_timestamp", F.current_timestamp())
         .write.mode("append").parquet(silver_out))
        (d.where("not r.ok").select("topic", "partition", "offset", "value", F.col("r.reason").alias("reason"))
         .withColumn("dlq_timestamp", F.current_timestamp())
         .write.mode("append").parquet(dlq_out))
        d.unpersist()

    silver = (spark.readStream.schema(kafka_schema).json(os.path.join(work, "in/kafka"))
              .writeStream.queryName("silver").foreachBatch(write_batch)
              .option("checkpointLocation", os.path.join(work, "chk/silver"))
              .trigger(processingTime="%d seconds" % TRIGGER_S).start())

    def side(d):
        return (spark.readStream.schema(silver_schema).json(os.path.join(work, "in", d))
                .withColumn("event_timestamp", F.from_unixtime(F.col("timestamp") / 1000000).cast("timestamp"))
                .withWatermark("event_timestamp", "5 minutes"))

    gold_df = (side("silver_binance").union(side("silver_kraken"))
               .dropDuplicates(["message_id"])
               .select("message_id", "trade_id", "symbol", "exchange", "asset_class", "timestamp", "price",
                       "quantity", "currency", "side",
                       F.current_timestamp().alias("gold_ingestion_timestamp"),
                       F.to_date("event_timestamp").alias("exchange_date"),
                       F.hour("event_timestamp").alias("exchange_hour")))
    gold = (gold_df.writeStream.queryName("gold").format("parquet")
            .partitionBy("exchange_date", "exchange_hour")
            .option("path", os.path.join(work, "out/gold"))
            .option("checkpointLocation", os.path.join(work, "chk/gold"))
            .trigger(processingTime="%d seconds" % TRIGGER_S).start())

    capture, offsets, errors = [], {BINANCE: 0, KRAKEN: 0}, []
    warm, go, done = threading.Event(), threading.Event(), threading.Event()
    load_before = os.getloadavg()
    t0 = time.time()
    th = threading.Thread(target=feeder, args=(work, rates, seconds, capture, offsets, sum(map(ord, name)),
                                               errors, warm, go, done), daemon=True)
    th.start()
    warm.wait()
    # Start-up: wait (bounded) until both queries have finished their first batch.
    deadline = time.time() + 600
    while time.time() < deadline and not (silver.lastProgress and gold.lastProgress):
        if silver.exception() or gold.exception():
            break
        time.sleep(0.5)
    startup_s = time.time() - t0
    t_traffic = time.time()
    go.set()
    while not done.wait(1.0):
        if silver.exception() or gold.exception():
            break
    # Let both queries drain what arrived (bounded).
    deadline = time.time() + 240
    while time.time() < deadline:
        if silver.exception() or gold.exception():
            break
        if all(q.lastProgress and q.lastProgress["numInputRows"] == 0 for q in (silver, gold)):
            break
        time.sleep(TRIGGER_S)
    load_after = os.getloadavg()
    progress = {q.name: [p.json for p in q.recentProgress] for q in (silver, gold)}
    exc = [q.exception() for q in (silver, gold)]
    silver.stop(); gold.stop()
    spark.stop()
    if errors or any(exc):
        raise SystemExit("run %s failed: %s %s" % (name, errors, exc))

    for q, lines in progress.items():
        with open(os.path.join(out, q + ".progress.jsonl"), "w") as f:
            for line in lines:
                f.write(json.dumps(json.loads(line), separators=(",", ":")) + "\n")

    capture.sort(key=lambda m: (m[2], m[0], m[1]))
    cap_path = os.path.join(out, "capture.jsonl")
    with open(cap_path, "w") as f:
        for topic in (BINANCE, KRAKEN):
            f.write(json.dumps({"type": "schema", "id": SCHEMA_ID, "subject": topic + "-value",
                                "schema": SCHEMA_JSON}) + "\n")
        for topic, off, arrival_us, value in capture:
            f.write(json.dumps({"type": "message", "topic": topic, "partition": 0, "offset": off,
                                "timestamp_ms": arrival_us // 1000, "key_b64": None,
                                "value_b64": base64.b64encode(value).decode(),
                                "append_time_us": arrival_us}) + "\n")
    subprocess.run(["zstd", "-q", "-19", "--rm", "-f", cap_path], check=True)
    import pyspark
    with open(os.path.join(out, "conditions.json"), "w") as f:
        json.dump({"run": name, "rates_rows_per_s": {"binance": list(rates), "kraken": [r / 10 for r in rates]},
                   "trigger_s": TRIGGER_S, "traffic_s": seconds, "file_every_s": FILE_EVERY_S,
                   "spark": pyspark.__version__, "python": sys.version.split()[0], "master": "local[2]",
                   "cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after,
                   "messages": len(capture), "startup_wait_s": round(startup_s, 1),
                   "traffic_started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t_traffic)),
                   "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))},
                  f, indent=1, sort_keys=True)
        f.write("\n")
    shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--only")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return run_one(a.child, a.out)
    # One driver (JVM) per run, so every run pays its own start-up, with the
    # driver log filtered to the progress entries.
    for name in ([a.only] if a.only else list(RUNS)):
        os.makedirs(os.path.join(a.out, name), exist_ok=True)
        with tempfile.NamedTemporaryFile("w", suffix=".properties", delete=False) as lf:
            lf.write(LOG4J)
        env = dict(os.environ)
        env["PYSPARK_PYTHON"] = sys.executable          # the workers need fastavro too
        env["PYSPARK_SUBMIT_ARGS"] = ("--driver-java-options -Dlog4j2.configurationFile=file:%s pyspark-shell"
                                      % lf.name)
        log_path = os.path.join(a.out, name + ".driver.tmp")
        with open(log_path, "w") as log:
            rc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name, "--out", a.out],
                                stderr=log, env=env, timeout=900).returncode
        os.remove(lf.name)
        if rc != 0:
            sys.exit("run %s: exit %d (see %s)" % (name, rc, log_path))
        # Keep only the progress entries (each a header line plus a multi-line JSON object).
        keep, inside = [], False
        with open(log_path) as f:
            for line in f:
                if "Streaming query made progress" in line:
                    inside = True
                elif inside and not line.startswith((" ", "}")):
                    inside = False
                if inside:
                    keep.append(line)
                    if line.startswith("}"):
                        inside = False
        with open(os.path.join(a.out, name, "driver.log"), "w") as f:
            f.writelines(keep)
        os.remove(log_path)
        print(name, "done", flush=True)


if __name__ == "__main__":
    main()
