import Foundation
import Testing
import Kernel
import TestSupport
@testable import Checks

/// The SQLite export's DECIMAL(18,8) text, made by SQL from exact units, is
/// Decimal8's own text for every sign and size decimal(18,8) holds.
@Suite struct SQLiteExportTests {
    @Test func decimalTextFromUnitsIsExact() async throws {
        let units: [Int64] = [0, 1, -1, 99_999_999, 100_000_000, -100_000_000, -150_000_000, 9_499_950_000_000,
                              999_999_999_999_999_999, -999_999_999_999_999_999, 12_345_678_901_234_567]
        let values = units.map { "(\($0))" }.joined(separator: ",")
        let sql = "SELECT \(SQLiteExport.decimalText("u")) FROM (SELECT column1 AS u FROM (VALUES \(values)));"
        let dir = try CLI.temporaryDirectory("medallion-sqlite-decimal")
        try sql.write(toFile: dir + "/q.sql", atomically: true, encoding: .utf8)
        let r = try await CLI.shell("sqlite3 :memory: < q.sql", cwd: dir)
        try #require(r.status == 0, "sqlite3 failed (is it installed? make deps): \(r.stderr)")
        #expect(r.stdout.split(separator: "\n").map(String.init) == units.map { Decimal8(units: $0).description })
    }
}
