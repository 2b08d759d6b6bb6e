import Codec
import Engine
import Foundation

/// Each Silver row is the trade its Kafka bytes hold, read by the reference
/// reader (written from the Avro specification, not the libavro codec) with
/// the writer schema registered under the schema id the bytes carry —
/// whatever the id: a real registry's ids are arbitrary — and passes validation.
///
/// Rows decoded from bytes under a writer schema that is neither trade layout
/// are counted as not verifiable, not failed.
struct SilverContent {
    static let name = "silver_content"
    fileprivate(set) var problems: [String] = []
    /// Silver rows whose bytes only the codec can read (another registered writer schema).
    fileprivate(set) var unverifiable: Int64 = 0

    var result: CheckResult { .from(Self.name, problems: problems) }

    private let tables: ExchangeTables
    private let layouts: ReferenceTradeReader.Layouts

    init(_ tables: ExchangeTables, registry: SchemaRegistry) {
        self.tables = tables
        layouts = ReferenceTradeReader.Layouts(registry: registry)
    }

    /// Silver row `i` of exchange `k`, the first claim of its Bronze row (rows
    /// pointing nowhere or at a Bronze row claimed before are the exactly-once checker's).
    mutating func visit(_ k: Int, _ i: Int) {
        let silver = tables.silver[k], bronze = tables.bronze[k], e = tables.exchanges[k]
        // The columns compared: the trade, the schema id and the lineage (not the timestamps).
        let c = silver.columns(i)
        let schemaId = c.schemaId
        let b = c.sourceBronzeRow
        // The row's trade, once read: the reference reader's when the row holds it.
        var held: Trade?
        // The record's bytes read in place in the Kafka log.
        switch bronze.withValue(b, { ReferenceTradeReader.classify($0, layouts: layouts) }) {
        case .trade(let t, let id):
            if c.holds(t) { held = t }
            else { problems.append("\(silver.name.rawValue) row \(i) differs from the trade in its Kafka bytes (\(tables.address(k, b)))") }
            if id != schemaId { problems.append("\(silver.name.rawValue) row \(i): schema_id \(schemaId), bytes say \(id)") }
        case .trailingBytes, .unreadable:
            let bytes = bronze.value(b)
            if let layout = ReferenceTradeReader.layout(of: bytes, layouts: layouts) {
                let id = WireFormat.schemaId(of: bytes) ?? -1
                problems.append("\(silver.name.rawValue) row \(i) was decoded from bytes that are not a whole \(layout == .v1 ? "V1" : "V2") record (schema id \(id))")
            } else { unverifiable += 1 }
        }
        let trade = held ?? c.trade
        if let reason = TradeValidator.firstFailure(trade, topicExchange: e) {
            problems.append("\(silver.name.rawValue) row \(i) (\(trade.messageId)) fails validation: \(reason.rawValue)")
        }
    }
}

/// The content check's rows in chunks that either of the oracle's two threads
/// can take: whichever is free takes the next chunk, and the results are put
/// together in chunk order, so they are those of one pass in row order
/// whichever thread read which chunk. The rows to read (first claims of
/// their Bronze row) are known once the exactly-once checker has walked the
/// Silver tables; `claimsKnown` says so.
final class SilverContentPass: @unchecked Sendable {
    /// Rows of one Silver table, a sealed segment's worth (the reads stay in one segment).
    struct Chunk { let k: Int; let rows: Range<Int> }
    final class Result { var problems: [String] = []; var unverifiable: Int64 = 0 }

    private let tables: ExchangeTables
    private let registry: SchemaRegistry
    private let chunks: [Chunk]
    private let results: [Result]
    /// Per exchange, per Silver row: the first claim of its Bronze row (set before `claimsKnown`).
    private var firstClaims: [[Bool]]
    private let claims = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var next = 0

    /// `chunkRows`: rows a chunk (a sealed segment's worth by default).
    init(_ tables: ExchangeTables, registry: SchemaRegistry, chunkRows: Int = 1 << 15) {
        self.tables = tables; self.registry = registry
        var chunks: [Chunk] = []
        for (k, silver) in tables.silver.enumerated() {
            for start in stride(from: 0, to: silver.rowCount, by: chunkRows) {
                chunks.append(Chunk(k: k, rows: start ..< min(start + chunkRows, silver.rowCount)))
            }
        }
        self.chunks = chunks
        results = chunks.map { _ in Result() }
        firstClaims = tables.silver.map { [Bool](repeating: false, count: $0.rowCount) }
    }

    /// Row `i` of exchange `k` is the first claim of its Bronze row (the exactly-once checker's walk).
    func claim(_ k: Int, _ i: Int) { firstClaims[k][i] = true }
    /// Every claim is in: the chunks can be read.
    func claimsKnown() { for _ in 0..<2 { claims.signal() } }

    /// Reads chunks until none is left (on each of the two threads, once).
    func work() {
        claims.wait()
        var reader = SilverContent(tables, registry: registry)
        while true {
            lock.lock()
            let c = next
            next += 1
            lock.unlock()
            guard c < chunks.count else { return }
            let chunk = chunks[c]
            reader.problems.removeAll(keepingCapacity: true); reader.unverifiable = 0
            for i in chunk.rows where firstClaims[chunk.k][i] { reader.visit(chunk.k, i) }
            results[c].problems = reader.problems; results[c].unverifiable = reader.unverifiable
        }
    }

    /// The content checker's result, after both threads have worked.
    var checker: SilverContent {
        var all = SilverContent(tables, registry: registry)
        for r in results { all.problems += r.problems; all.unverifiable += r.unverifiable }
        return all
    }
}

