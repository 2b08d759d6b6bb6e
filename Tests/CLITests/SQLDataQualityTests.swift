import Foundation
import Testing
import TestSupport

/// The design record's data-quality SQL (sql/data-quality.sql: queries 1, 2
/// and 4 verbatim, query 3's equivalent) run by the real `sqlite3` tool on a
/// run's SQLite export; the answers must equal the harness's own figures in
/// its summary. `make deps` installs sqlite3 (Debian's package).
@Suite struct SQLDataQualityTests {
    /// A baseline run placed at 13:57 on 2026-01-20: its rows fall in hours 13
    /// and 14, so query 4 (hours 14 to 16) counts some rows and prunes others.
    static let runArguments = ["run", "baseline", "--set", "start=2026-01-20T13:57:00Z", "--set", "duration=6m"]

    /// The file's statements in order, each exactly as written (comment lines dropped).
    static func queries() throws -> [String] {
        let text = try String(contentsOfFile: Repository.path("sql/data-quality.sql"), encoding: .utf8)
        let code = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("--") }.joined(separator: "\n")
        return code.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }.map { $0 + ";" }
    }

    /// Rows of `sqlite3 -json DB < query` (none: sqlite3 prints nothing).
    static func sqlite(_ query: String, in dir: String) async throws -> [[String: Any]] {
        let file = dir + "/query-\(UUID().uuidString).sql"
        try query.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try await CLI.shell("sqlite3 -json tables.sqlite < '\(file)'", cwd: dir)
        try #require(r.status == 0, "sqlite3 failed (is it installed? make deps): \(r.stderr)")
        let out = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if out.isEmpty { return [] }
        return try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]], "\(out)")
    }

    /// Every way the four answers differ from the summary's figures (empty: they agree).
    static func differences(in dir: String) async throws -> [String] {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json")))
        let gold = try #require((summary as? [String: Any])?["gold"] as? [String: Any])
        let q = try queries()
        try #require(q.count == 4, "sql/data-quality.sql holds \(q.count) statements, expected 4")
        var diffs: [String] = []

        // 1. Deduplication: no message id twice, as the harness says.
        let dups = try await sqlite(q[0], in: dir)
        if dups.count != gold["duplicate_message_ids"] as? Int ?? -1 {
            diffs.append("query 1: \(dups.count) duplicated message ids, summary \(gold["duplicate_message_ids"] ?? "none")")
        }
        // 2. Exchange breakdown.
        var byExchange: [String: Int] = [:]
        for row in try await sqlite(q[1], in: dir) { byExchange[row["exchange"] as? String ?? "?"] = row["trade_count"] as? Int }
        if byExchange != gold["exchange_breakdown"] as? [String: Int] {
            diffs.append("query 2: \(byExchange), summary \(gold["exchange_breakdown"] ?? "none")")
        }
        // 3. Partitions: the listing, in the summary's naming, with its counts;
        // and the listing equals the rows grouped by partition.
        let listed = try await sqlite(q[2], in: dir).compactMap { $0["partition"] as? String }
        let summaryParts = try #require(gold["partitions"] as? [String: Int])
        let want = summaryParts.keys.sorted().map { k -> String in
            let parts = k.split(separator: "/")
            return "exchange_date=\(parts[0])/exchange_hour=\(Int(parts[1])!)"
        }
        if listed != want { diffs.append("query 3: partitions \(listed), summary \(want)") }
        var counts: [String: Int] = [:]
        for row in try await sqlite("SELECT exchange_date || '/' || printf('%02d', exchange_hour) AS p, record_count FROM gold_crypto_trades_partitions;", in: dir) {
            counts[row["p"] as? String ?? "?"] = row["record_count"] as? Int
        }
        if counts != summaryParts { diffs.append("query 3: partition rows \(counts), summary \(summaryParts)") }
        var grouped: [String: Int] = [:]
        for row in try await sqlite("SELECT exchange_date || '/' || printf('%02d', exchange_hour) AS p, COUNT(*) AS n FROM gold_crypto_trades GROUP BY 1;", in: dir) {
            grouped[row["p"] as? String ?? "?"] = row["n"] as? Int
        }
        if grouped != counts { diffs.append("query 3: the rows group into \(grouped), the listing says \(counts)") }
        // 4. The hourly window.
        let hourly = try await sqlite(q[3], in: dir).first?["COUNT(*)"] as? Int
        let wantHourly = (gold["hourly_query"] as? [String: Any])?["rows"] as? Int
        if hourly == nil || hourly != wantHourly { diffs.append("query 4: \(hourly.map(String.init) ?? "nothing"), summary \(wantHourly.map(String.init) ?? "none")") }
        return diffs
    }

    @Test func theDesignRecordsQueriesAnswerAsTheHarnessDoesAndCanFail() async throws {
        let dir = try CLI.temporaryDirectory("medallion-sql")
        let r = try await CLI.run(Self.runArguments + ["--out", dir, "--format", "json"])
        try #require(r.status == 0, "\(r.stderr)")
        #expect(try await Self.differences(in: dir) == [])

        // The run is not trivial for the queries: rows on both sides of 14:00, both exchanges.
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json"))) as? [String: Any])
        let gold = try #require(summary["gold"] as? [String: Any])
        let total = try #require(gold["rows"] as? Int)
        let hourly = try #require((gold["hourly_query"] as? [String: Any])?["rows"] as? Int)
        #expect(hourly > 0 && hourly < total, "hour 14 holds \(hourly) of \(total) rows")
        #expect((gold["exchange_breakdown"] as? [String: Int])?.count == 2)
        #expect((summary["checks"] as? [String: String])?["gold_data_quality"] == "pass")

        // One Gold row of hour 14 committed twice: queries 1, 2 and 4 and the
        // partition grouping now disagree with the harness, so the test can fail.
        let t = try await CLI.shell("sqlite3 tables.sqlite \"INSERT INTO gold_crypto_trades_units SELECT * FROM gold_crypto_trades_units WHERE exchange_hour = 14 LIMIT 1\"", cwd: dir)
        try #require(t.status == 0, "\(t.stderr)")
        let diffs = try await Self.differences(in: dir)
        for n in ["query 1", "query 2", "query 3", "query 4"] {
            #expect(diffs.contains { $0.hasPrefix(n) }, "\(n) should differ after the tampering: \(diffs)")
        }
    }

    /// Gold in SQL keeps the export's values: DECIMAL(18,8) text exactly as
    /// the JSON Lines write it, BIGINT microseconds, every row in commit order.
    @Test func goldInSQLiteIsTheExportedGoldExactly() async throws {
        let dir = try CLI.temporaryDirectory("medallion-sql-values")
        let r = try await CLI.run(Self.runArguments + ["--out", dir, "--format", "json"])
        try #require(r.status == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: dir + "/tables/gold_crypto_trades.jsonl", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        func field(_ line: String, _ key: String) -> String? {
            guard let start = line.range(of: "\"\(key)\":") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != "," && $0 != "}" })
        }
        let q = "SELECT price, quantity, timestamp, ingestion_timestamp, typeof(timestamp) AS t FROM gold_crypto_trades;"
        let rows = try await Self.sqlite(q, in: dir)
        try #require(rows.count == lines.count && !rows.isEmpty)
        // sqlite3 -json prints the decimal text as a JSON string: compare the text itself.
        for (i, (row, line)) in zip(rows, lines).enumerated() {
            #expect(row["price"] as? String == field(line, "price"), "row \(i)")
            #expect(row["quantity"] as? String == field(line, "quantity"), "row \(i)")
            #expect((row["timestamp"] as? Int).map(String.init) == field(line, "timestamp"), "row \(i)")
            #expect((row["ingestion_timestamp"] as? Int).map(String.init) == field(line, "ingestion_timestamp"), "row \(i)")
            #expect(row["t"] as? String == "integer")
        }
        // The six tables are there, Silver and Gold as views over exact units.
        let names = try await Self.sqlite("SELECT name, type FROM sqlite_schema ORDER BY name;", in: dir)
            .map { "\($0["name"] as? String ?? "?"):\($0["type"] as? String ?? "?")" }
        for n in ["bronze_binance_trades:table", "bronze_kraken_trades:table", "silver_binance_trades:view",
                  "silver_kraken_trades:view", "silver_dlq_trades:table", "gold_crypto_trades:view",
                  "gold_crypto_trades_units:table", "gold_crypto_trades_partitions:table"] {
            #expect(names.contains(n), "\(n) missing from \(names)")
        }
    }
}
