#!/usr/bin/env python3
"""Writes independent-capture.jsonl: a docs/REFERENCE.md §9 capture whose Avro values are
encoded by fastavro (an Avro implementation independent of medallion-sim's
libavro codec), with the Confluent wire header, plus
independent-capture.expected.json: the field values the script encoded, for
the Swift test to compare Silver's decoded rows against.

Regenerate (the outputs are committed; the tests do not need Python):
    pip install fastavro==1.13.1
    python3 Tests/ReplayTests/Fixtures/make_capture.py

Deterministic: fixed UUIDs, times and values; no randomness.
"""
import base64
import io
import json
import os
import struct
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import fastavro

HERE = os.path.dirname(os.path.abspath(__file__))
BINANCE = "market.crypto.trades.binance"
KRAKEN = "market.crypto.trades.kraken"

# The trade schemas of docs/REFERENCE.md §2, written out here from the spec's description.
COMMON_HEAD = [
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
]
V1 = {"type": "record", "name": "Trade", "namespace": "market.crypto", "fields": COMMON_HEAD + [
    {"name": "source_sequence", "type": ["null", "long"], "default": None},
    {"name": "ingestion_timestamp", "type": {"type": "long", "logicalType": "timestamp-micros"}},
]}
V2 = {"type": "record", "name": "Trade", "namespace": "market.crypto", "fields": COMMON_HEAD + [
    {"name": "trade_conditions", "type": {"type": "array", "items": "string"}, "default": []},
    {"name": "source_sequence", "type": ["null", "long"], "default": None},
    {"name": "ingestion_timestamp", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    {"name": "platform_sequence", "type": ["null", "long"], "default": None},
    {"name": "vendor_data", "type": ["null", {"type": "map", "values": "string"}], "default": None},
]}
V1_ID, V2_ID = 1, 2

T0 = datetime(2026, 1, 20, 9, 0, 0, tzinfo=timezone.utc)


def micros(dt):
    return (dt - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


def confluent(schema_id, schema, record):
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    return b"\x00" + struct.pack(">I", schema_id) + buf.getvalue()


def trade(n, symbol, exchange, currency, second, price, quantity, side, **extra):
    ingest = T0 + timedelta(seconds=second)
    t = {
        "message_id": "3f1c2a9e-7b4d-4c8e-9a%02d-5d6e7f8091a2" % n,
        "trade_id": "T%d" % (900000 + n),
        "symbol": symbol, "exchange": exchange, "asset_class": "crypto",
        "timestamp": ingest - timedelta(milliseconds=250 + n),
        "price": Decimal(price), "quantity": Decimal(quantity), "currency": currency, "side": side,
        "source_sequence": 1000 + n, "ingestion_timestamp": ingest,
    }
    t.update(extra)
    return t


def main():
    messages = []  # (topic, partition, offset, timestamp_ms, key, value bytes or None)
    expected = []  # what Silver must hold, field by field

    def add(topic, partition, offset, second, key, value):
        ts_ms = micros(T0 + timedelta(seconds=second)) // 1000
        messages.append((topic, partition, offset, ts_ms, key, value))

    def add_trade(topic, partition, offset, schema_id, rec):
        schema = V1 if schema_id == V1_ID else V2
        second = (rec["ingestion_timestamp"] - T0).total_seconds()
        add(topic, partition, offset, second, rec["symbol"].encode(), confluent(schema_id, schema, rec))
        e = {
            "topic": topic, "partition": partition, "offset": offset, "schema_id": schema_id,
            "message_id": rec["message_id"], "trade_id": rec["trade_id"], "symbol": rec["symbol"],
            "exchange": rec["exchange"], "asset_class": rec["asset_class"],
            "timestamp_us": micros(rec["timestamp"]), "price": str(rec["price"]), "quantity": str(rec["quantity"]),
            "currency": rec["currency"], "side": rec["side"],
            # V1 has none of these: Silver reads them through schema resolution with V2's defaults.
            "trade_conditions": rec.get("trade_conditions", []),
            "source_sequence": rec["source_sequence"], "ingestion_timestamp_us": micros(rec["ingestion_timestamp"]),
            "platform_sequence": rec.get("platform_sequence"), "vendor_data": rec.get("vendor_data"),
        }
        expected.append(e)

    # Binance, partition 0: production-like offsets with a gap (compaction).
    add_trade(BINANCE, 0, 1234567, V2_ID, trade(1, "BTCUSDT", "BINANCE", "USDT", 5, "104250.12345678", "0.00120000", "BUY",
                                                 trade_conditions=[], platform_sequence=77001,
                                                 vendor_data={"is_best_match": "true", "m": "false"}))
    add_trade(BINANCE, 0, 1234568, V2_ID, trade(2, "ETHUSDT", "BINANCE", "USDT", 20, "3301.5", "1.25", "SELL",
                                                 trade_conditions=["market", "odd_lot"], platform_sequence=None,
                                                 vendor_data=None))
    add_trade(BINANCE, 0, 1234575, V2_ID, trade(3, "SOLUSDT", "BINANCE", "USDT", 41, "187.00000001", "42", "BUY",
                                                 trade_conditions=[], platform_sequence=77003,
                                                 vendor_data={"note": "ünïcödé ✓"}))
    # A malformed value: a V2 record cut short (AVRO_DECODE_ERROR).
    cut = confluent(V2_ID, V2, trade(4, "BNBUSDT", "BINANCE", "USDT", 50, "612.3", "3", "SELL",
                                     trade_conditions=[], platform_sequence=None, vendor_data=None))[:30]
    add(BINANCE, 0, 1234576, 50, b"BNBUSDT", cut)
    # Binance, partition 2 (partition 1 has nothing in this capture).
    add_trade(BINANCE, 2, 88, V2_ID, trade(5, "XRPUSDT", "BINANCE", "USDT", 65, "2.1", "1000", "SELL",
                                            trade_conditions=["block"], platform_sequence=77005, vendor_data={}))
    # A schema id the capture never registers: data for the DLQ, not a capture error.
    add(BINANCE, 2, 89, 70, b"XRPUSDT", b"\x00" + struct.pack(">I", 99) + b"\x02\x04")
    # Kraken: one V1 message (older writer schema).
    add_trade(KRAKEN, 0, 40000, V1_ID, trade(6, "BTC/USD", "KRAKEN", "USD", 30, "104199.9", "0.5", "BUY"))
    # A topic the pipeline does not read: replay reports it and ignores it.
    add("market.crypto.trades.coinbase", 0, 7, 31, None, b"\x00\x00\x00\x00\x02")

    messages.sort(key=lambda m: (m[3], m[0], m[1], m[2]))
    with open(os.path.join(HERE, "independent-capture.jsonl"), "w", encoding="utf-8") as f:
        for sid, subject, schema in [(V1_ID, BINANCE + "-value", V1), (V2_ID, BINANCE + "-value", V2),
                                     (V1_ID, KRAKEN + "-value", V1), (V2_ID, KRAKEN + "-value", V2)]:
            f.write(json.dumps({"type": "schema", "id": sid, "subject": subject, "schema": json.dumps(schema)}) + "\n")
        for topic, partition, offset, ts_ms, key, value in messages:
            f.write(json.dumps({
                "type": "message", "topic": topic, "partition": partition, "offset": offset, "timestamp_ms": ts_ms,
                "key_b64": None if key is None else base64.b64encode(key).decode(),
                "value_b64": None if value is None else base64.b64encode(value).decode(),
            }) + "\n")
    with open(os.path.join(HERE, "independent-capture.expected.json"), "w", encoding="utf-8") as f:
        json.dump({
            "silver": expected,
            "dlq": [
                {"topic": BINANCE, "partition": 0, "offset": 1234576, "reason": "AVRO_DECODE_ERROR", "schema_id": V2_ID},
                {"topic": BINANCE, "partition": 2, "offset": 89, "reason": "UNKNOWN_SCHEMA_ID", "schema_id": 99},
            ],
            "ignored_topics": [{"topic": "market.crypto.trades.coinbase", "messages": 1}],
        }, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
