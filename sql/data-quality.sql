-- The Gold table's data-quality checks from the pipeline's design record.
-- Queries 1, 2 and 4 are verbatim; they run unchanged on the SQLite export of a
-- run (`medallion-sim run SCENARIO --out DIR`, then
-- `sqlite3 DIR/tables.sqlite < sql/data-quality.sql`). Query 3 is Spark's
-- `SHOW PARTITIONS gold_crypto_trades;`, which SQLite does not have: its
-- equivalent reads the export's partition listing. docs/SQL.md explains the
-- export; a test (SQLDataQualityTests) runs these and compares the answers
-- with the harness's own figures.

-- 1. Deduplication verification (expect 0 duplicates)
SELECT message_id, COUNT(*)
FROM gold_crypto_trades
GROUP BY message_id
HAVING COUNT(*) > 1;

-- 2. Exchange breakdown
SELECT exchange, COUNT(*) as trade_count
FROM gold_crypto_trades
GROUP BY exchange;

-- 3. Partition effectiveness (equivalent of SHOW PARTITIONS gold_crypto_trades;)
SELECT partition
FROM gold_crypto_trades_partitions
ORDER BY exchange_date, exchange_hour;

-- 4. Hourly query performance (partition pruning)
SELECT COUNT(*)
FROM gold_crypto_trades
WHERE exchange_date = '2026-01-20'
  AND exchange_hour BETWEEN 14 AND 16;
