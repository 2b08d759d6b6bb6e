import Foundation
import Testing
import Kernel
import Engine
import Scenarios
import TestSupport
@testable import Checks

/// Gold's export follows the table's DDL (sql/gold_crypto_trades.sql): its 18
/// columns, their names, order and types.
@Suite struct GoldExportTests {
    /// `(name, type)` of every column line of the DDL file, in order.
    static func ddlColumns() throws -> [(name: String, type: String)] {
        let text = try String(contentsOfFile: Repository.path("sql/gold_crypto_trades.sql"), encoding: .utf8)
        guard let open = text.range(of: "CREATE TABLE gold_crypto_trades ("), let close = text.range(of: "\n)\nPARTITIONED BY") else {
            Issue.record("no CREATE TABLE in sql/gold_crypto_trades.sql"); return []
        }
        return text[open.upperBound..<close.lowerBound].split(separator: "\n").compactMap { line in
            let code = line.split(separator: "--", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: .whitespaces)
            guard !code.isEmpty else { return nil }
            let words = code.split(separator: " ", maxSplits: 1)
            return (String(words[0]), String(words[1]).trimmingCharacters(in: CharacterSet(charactersIn: ", ")))
        }
    }

    @Test func theExportsColumnsAreTheDDLs() throws {
        let ddl = try Self.ddlColumns()
        #expect(ddl.count == 18)
        #expect(ddl.map(\.name) == TableExport.goldColumns.map(\.name))
        #expect(ddl.map(\.type) == TableExport.goldColumns.map(\.type))
    }

    @Test func aGoldLineHasTheDDLsKeysInOrderAndTypes() throws {
        let o = try RecordLatencyTests.outcome()
        let rows = try #require(o.tables.first { $0.name == "gold_crypto_trades" }?.rows)
        try #require(!rows.isEmpty)
        for (i, line) in rows.prefix(50).enumerated() {
            guard case .object(let object) = try OrderedJSON.parse(line) else { Issue.record("row \(i) is not an object"); continue }
            #expect(Array(object.keys) == TableExport.goldColumns.map(\.name), "row \(i)")
            let members = object.elements
            let r = o.pipeline.gold.row(i)
            // BIGINT microseconds, not ISO strings.
            #expect(members[5].1 == .number(String(r.trade.timestampMicros)))
            #expect(members[12].1 == .number(String(r.trade.ingestionTimestampMicros)))
            // DECIMAL(18,8): exact, 8 places.
            #expect(members[6].1 == .number(r.trade.price.description) && r.trade.price.description.split(separator: ".")[1].count == 8)
            #expect(members[15].1 == .string(UTCDateTime(micros: r.goldIngestionTimestampMicros).iso8601))
            #expect(members[16].1 == .string(r.exchangeDate) && members[17].1 == .number(String(r.exchangeHour)))
        }
    }
}
