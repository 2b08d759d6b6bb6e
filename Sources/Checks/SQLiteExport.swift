import CSQLite
import Codec
import Engine
import Foundation
import Kernel

/// A run's six tables as one SQLite database (`DIR/tables.sqlite` of
/// `--out`), written with the system's libsqlite3, so that the design
/// record's data-quality SQL runs on it as written (docs/SQL.md).
///
/// Types follow the DDL (sql/gold_crypto_trades.sql) as SQLite can hold them,
/// in STRICT tables that refuse anything else: STRING -> TEXT, BIGINT and INT
/// -> INTEGER, TIMESTAMP -> TEXT (ISO-8601 UTC with microseconds, which
/// SQLite's date functions read), DATE -> TEXT `YYYY-MM-DD`, ARRAY<STRING> ->
/// TEXT holding a JSON array (json_each reads it), binary -> BLOB.
/// DECIMAL(18,8) has no exact SQLite type (REAL is binary floating point), so
/// Silver and Gold are stored as `<table>_units` with `price_units` and
/// `quantity_units`, INTEGER multiples of 10^-8 (exact, summable), and
/// `<table>` is a view with the DDL's columns in order whose `price` and
/// `quantity` are the DECIMAL(18,8) text, `65000.12000000`, made from the units.
/// `gold_crypto_trades_partitions` is Gold's partition listing, what
/// `SHOW PARTITIONS gold_crypto_trades` answers (with each partition's rows).
public enum SQLiteExport {
    public static let fileName = "tables.sqlite"

    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "\(path): SQLite: \(problem)" }
    }

    /// SQL text of an INTEGER count of 10^-8 as DECIMAL(18,8) text.
    static func decimalText(_ units: String) -> String {
        "(CASE WHEN \(units) < 0 THEN '-' ELSE '' END || (abs(\(units)) / 100000000) || '.' || printf('%08d', abs(\(units)) % 100000000))"
    }

    /// The 15 V2 columns as stored (decimals as units).
    static let tradeColumnsStored = """
        message_id TEXT NOT NULL, trade_id TEXT NOT NULL, symbol TEXT NOT NULL, exchange TEXT NOT NULL,
        asset_class TEXT NOT NULL, timestamp INTEGER NOT NULL, price_units INTEGER NOT NULL, quantity_units INTEGER NOT NULL,
        currency TEXT NOT NULL, side TEXT NOT NULL, trade_conditions TEXT NOT NULL, source_sequence INTEGER,
        ingestion_timestamp INTEGER NOT NULL, platform_sequence INTEGER, vendor_data TEXT
        """
    /// The 15 V2 columns as the views show them (decimals as DECIMAL(18,8) text).
    static let tradeColumnsShown = """
        message_id, trade_id, symbol, exchange, asset_class, timestamp, \(decimalText("price_units")) AS price,
        \(decimalText("quantity_units")) AS quantity, currency, side, trade_conditions, source_sequence,
        ingestion_timestamp, platform_sequence, vendor_data
        """

    static func schema() -> String {
        var sql = ""
        for t in ["bronze_binance_trades", "bronze_kraken_trades"] {
            sql += """
                CREATE TABLE \(t) (topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
                  kafka_timestamp TEXT NOT NULL, bronze_ingestion_timestamp TEXT NOT NULL, value BLOB NOT NULL) STRICT;

                """
        }
        for t in ["silver_binance_trades", "silver_kraken_trades"] {
            sql += """
                CREATE TABLE \(t)_units (\(tradeColumnsStored),
                  validation_timestamp TEXT NOT NULL, bronze_ingestion_timestamp TEXT NOT NULL, schema_id INTEGER NOT NULL) STRICT;
                CREATE VIEW \(t) AS SELECT \(tradeColumnsShown), validation_timestamp, bronze_ingestion_timestamp, schema_id
                  FROM \(t)_units;

                """
        }
        sql += """
            CREATE TABLE silver_dlq_trades (raw BLOB NOT NULL, source_topic TEXT NOT NULL, source_partition INTEGER NOT NULL,
              source_offset INTEGER NOT NULL, exchange TEXT NOT NULL, error_category TEXT NOT NULL, error_reason TEXT NOT NULL,
              error_message TEXT NOT NULL, schema_id INTEGER, bronze_ingestion_timestamp TEXT NOT NULL,
              dlq_write_timestamp TEXT NOT NULL) STRICT;
            CREATE TABLE gold_crypto_trades_units (\(tradeColumnsStored),
              gold_ingestion_timestamp TEXT NOT NULL, exchange_date TEXT NOT NULL, exchange_hour INTEGER NOT NULL) STRICT;
            CREATE VIEW gold_crypto_trades AS SELECT \(tradeColumnsShown), gold_ingestion_timestamp, exchange_date, exchange_hour
              FROM gold_crypto_trades_units;
            CREATE TABLE gold_crypto_trades_partitions (partition TEXT NOT NULL, exchange_date TEXT NOT NULL,
              exchange_hour INTEGER NOT NULL, record_count INTEGER NOT NULL) STRICT;

            """
        return sql
    }

    /// Writes `path` afresh (an existing file is replaced): the schema, then
    /// every committed row in table order, in one transaction.
    public static func write(_ p: Pipeline, to path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        let db = try Database(path: path)
        try db.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;")
        try db.exec(schema())
        for t in [p.bronzeBinance, p.bronzeKraken] {
            let ins = try db.prepare("INSERT INTO \(t.name.rawValue) VALUES (?,?,?,?,?,?)")
            for i in 0..<t.rowCount {
                let r = t.row(i)
                try ins.run([.text(r.topic), .int(Int64(r.partition)), .int(r.offset),
                             .text(iso(r.kafkaTimestampMs * Time.microsPerMilli)), .text(iso(r.bronzeIngestionTimestampMicros)),
                             .blob(r.value)])
            }
        }
        for t in [p.silverBinance, p.silverKraken] {
            let ins = try db.prepare("INSERT INTO \(t.name.rawValue)_units VALUES (\(placeholders(18)))")
            for i in 0..<t.rowCount {
                let r = t.row(i)
                let vendor = r.trade.vendorData.map { JSONValue.object($0.mapValues { .string($0) }).compact }
                try ins.run(tradeValues(r.trade, vendorData: vendor)
                            + [.text(iso(r.validationTimestampMicros)), .text(iso(r.bronzeIngestionTimestampMicros)),
                               .int(Int64(r.schemaId))])
            }
        }
        let dlq = try db.prepare("INSERT INTO silver_dlq_trades VALUES (\(placeholders(11)))")
        for i in 0..<p.dlq.rowCount {
            let r = p.dlq.row(i)
            try dlq.run([.blob(r.rawValue), .text(r.sourceTopic), .int(Int64(r.sourcePartition)), .int(r.sourceOffset),
                         .text(r.exchange), .text(r.errorCategory.rawValue), .text(r.errorReason.rawValue), .text(r.errorMessage),
                         r.schemaId.map { .int(Int64($0)) } ?? .null, .text(iso(r.bronzeIngestionTimestampMicros)),
                         .text(iso(r.dlqWriteTimestampMicros))])
        }
        let gold = try db.prepare("INSERT INTO gold_crypto_trades_units VALUES (\(placeholders(18)))")
        for i in 0..<p.gold.rowCount {
            let r = p.gold.row(i)
            try gold.run(tradeValues(r.trade, vendorData: r.vendorDataJSON)
                         + [.text(iso(r.goldIngestionTimestampMicros)), .text(r.exchangeDate), .int(Int64(r.exchangeHour))])
        }
        let parts = try db.prepare("INSERT INTO gold_crypto_trades_partitions VALUES (?,?,?,?)")
        for part in p.gold.partitions {
            try parts.run([.text("exchange_date=\(part.exchangeDate)/exchange_hour=\(part.exchangeHour)"), .text(part.exchangeDate),
                           .int(Int64(part.exchangeHour)), .int(Int64(part.rowCount))])
        }
        try db.exec("COMMIT;")
    }

    static func iso(_ micros: Micros) -> String { UTCDateTime(micros: micros).iso8601 }
    static func placeholders(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ",") }

    static func tradeValues(_ t: Trade, vendorData: String?) -> [Database.Value] {
        [.text(t.messageId), .text(t.tradeId), .text(t.symbol), .text(t.exchange), .text(t.assetClass),
         .int(t.timestampMicros), .int(t.price.units), .int(t.quantity.units), .text(t.currency), .text(t.side.rawValue),
         .text(JSONValue.array(t.tradeConditions.map { .string($0) }).compact), t.sourceSequence.map { .int($0) } ?? .null,
         .int(t.ingestionTimestampMicros), t.platformSequence.map { .int($0) } ?? .null, vendorData.map { .text($0) } ?? .null]
    }

    /// The little of libsqlite3 the export needs; closes the file when released.
    final class Database {
        enum Value { case null, int(Int64), text(String), blob([UInt8]) }
        let path: String
        private var db: OpaquePointer?
        private var statements: [Statement] = []

        init(path: String) throws {
            self.path = path
            guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
                let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
                sqlite3_close(db)
                throw Failure(path: path, problem: message)
            }
        }

        deinit {
            for s in statements { sqlite3_finalize(s.handle) }
            sqlite3_close(db)
        }

        func failure(_ what: String) -> Failure {
            Failure(path: path, problem: "\(what): \(String(cString: sqlite3_errmsg(db)))")
        }

        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw failure("executing SQL") }
        }

        func prepare(_ sql: String) throws -> Statement {
            var h: OpaquePointer?
            guard sqlite3_prepare_v2(db, sql, -1, &h, nil) == SQLITE_OK, let h else { throw failure("preparing \(sql)") }
            let s = Statement(handle: h, database: self)
            statements.append(s)
            return s
        }

        final class Statement {
            let handle: OpaquePointer
            unowned let database: Database
            init(handle: OpaquePointer, database: Database) { self.handle = handle; self.database = database }

            /// SQLite copies bound text and blobs at once (SQLITE_TRANSIENT).
            private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

            func run(_ values: [Value]) throws {
                for (i, v) in values.enumerated() {
                    let k = Int32(i + 1)
                    let rc: Int32
                    switch v {
                    case .null: rc = sqlite3_bind_null(handle, k)
                    case .int(let x): rc = sqlite3_bind_int64(handle, k, x)
                    case .text(let s): rc = sqlite3_bind_text(handle, k, s, -1, Self.transient)
                    case .blob(let b):
                        rc = b.isEmpty ? sqlite3_bind_zeroblob(handle, k, 0)
                            : b.withUnsafeBytes { sqlite3_bind_blob(handle, k, $0.baseAddress, Int32(b.count), Self.transient) }
                    }
                    guard rc == SQLITE_OK else { throw database.failure("binding value \(k)") }
                }
                guard sqlite3_step(handle) == SQLITE_DONE else { throw database.failure("inserting a row") }
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
        }
    }
}
