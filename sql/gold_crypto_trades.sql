-- The Gold table as the pipeline's design record defines it (Spark SQL DDL,
-- verbatim). medallion-sim's Gold export follows it: these 18 columns, in this
-- order, typed as declared (docs/SQL.md). A test reads this file.
CREATE TABLE gold_crypto_trades (
    -- V2 Avro Fields (15 fields) - Core trade data
    message_id STRING,              -- UUID v4 (deduplication key)
    trade_id STRING,                -- Exchange-specific trade ID
    symbol STRING,                  -- Trading pair
    exchange STRING,                -- BINANCE, KRAKEN, etc.
    asset_class STRING,             -- Always 'crypto'
    timestamp BIGINT,               -- Trade time (microseconds)
    price DECIMAL(18,8),            -- Trade price
    quantity DECIMAL(18,8),         -- Trade quantity
    currency STRING,                -- Quote currency
    side STRING,                    -- BUY or SELL
    trade_conditions ARRAY<STRING>, -- Trade conditions
    source_sequence BIGINT,         -- Exchange sequence
    ingestion_timestamp BIGINT,     -- Platform ingestion time
    platform_sequence BIGINT,       -- Platform sequence
    vendor_data STRING,             -- JSON string (not map)

    -- Gold Metadata (3 fields) - Derived fields
    gold_ingestion_timestamp TIMESTAMP, -- Gold write time
    exchange_date DATE,                 -- Partition key 1
    exchange_hour INT                   -- Partition key 2 (0-23)
)
PARTITIONED BY (exchange_date, exchange_hour)
