#!/usr/bin/env python3
"""Writes Bronze exports of the fixture traffic with real PySpark (local mode).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pyspark   # Java 17
    /tmp/venv/bin/python make_bronze.py        # after make_segments.py (reads expected.jsonl)

A DataFrame with Bronze's columns (topic, partition, offset, kafka_timestamp,
bronze_ingestion_timestamp, value as binary, plus the Kafka key) written with
`df.write.json`, as a user would export `spark.table("bronze_...")`:
  bronze-json/       plain part files (session time zone UTC)
  bronze-json-gz/    .json.gz part files, and the time zone Europe/Berlin (offsets +01:00)
  bronze-renamed/    columns named as another Bronze might name them (kafka_topic,
                     kafka_partition, kafka_offset, ts, payload), read with a column
                     mapping; its part files then zstd-compressed (`zstd part-*`
                     does the same: this PySpark's Hadoop has no zstd codec for text)
"""
import base64
import glob
import json
import os
import shutil
from datetime import datetime, timezone

from pyspark.sql import SparkSession
from pyspark.sql.types import (BinaryType, IntegerType, LongType, StringType, StructField, StructType,
                               TimestampType)

spark = (SparkSession.builder.master("local[1]").appName("medallion-sim-fixture")
         .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false").getOrCreate())

rows = []
for line in open("expected.jsonl"):
    m = json.loads(line)
    if m["type"] != "message":
        continue
    ts = datetime.fromtimestamp(m["timestamp_ms"] / 1000, tz=timezone.utc)
    # Bronze's ingestion time: some time after the Kafka timestamp (not read by replay).
    ingested = datetime.fromtimestamp((m["timestamp_ms"] + 12_345) / 1000, tz=timezone.utc)
    rows.append((m["topic"], m["partition"], m["offset"], ts, ingested,
                 base64.b64decode(m["key_b64"]) if m["key_b64"] is not None else None,
                 base64.b64decode(m["value_b64"]) if m["value_b64"] is not None else None))

schema = StructType([
    StructField("topic", StringType(), False), StructField("partition", IntegerType(), False),
    StructField("offset", LongType(), False), StructField("kafka_timestamp", TimestampType(), False),
    StructField("bronze_ingestion_timestamp", TimestampType(), False),
    StructField("key", BinaryType(), True), StructField("value", BinaryType(), True),
])
# Two partitions of the DataFrame: two part files, rows dealt round robin (not in Kafka order).
df = spark.createDataFrame(rows, schema).repartition(2)  # round robin

for d in ("bronze-json", "bronze-json-gz", "bronze-renamed"):
    shutil.rmtree(d, ignore_errors=True)
df.write.json("bronze-json")
spark.conf.set("spark.sql.session.timeZone", "Europe/Berlin")
df.write.option("compression", "gzip").json("bronze-json-gz")
spark.conf.set("spark.sql.session.timeZone", "UTC")
(df.withColumnRenamed("topic", "kafka_topic").withColumnRenamed("partition", "kafka_partition")
   .withColumnRenamed("offset", "kafka_offset").withColumnRenamed("kafka_timestamp", "ts")
   .withColumnRenamed("value", "payload")
   .write.json("bronze-renamed"))
spark.stop()
import zstandard  # noqa: E402
for part in glob.glob("bronze-renamed/part-*"):
    with open(part, "rb") as f:
        data = f.read()
    with open(part + ".zst", "wb") as f:
        f.write(zstandard.ZstdCompressor(level=3).compress(data))
    os.remove(part)
for crc in glob.glob("bronze-*/.*.crc"):
    os.remove(crc)  # Hadoop's checksum files: not data
print(f"{len(rows)} rows")
