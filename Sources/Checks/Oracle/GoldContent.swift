import Engine
import Kernel

/// Each Gold row equals the Silver row the recomputation accepted for its
/// message id: the same trade, vendor_data as a JSON object with keys sorted by
/// UTF-8 bytes, the exchange_date / exchange_hour partition of its event time
/// (UTC, whole seconds), and its batch's timestamp as gold_ingestion_timestamp.
///
/// A Gold row holds a reference to the Silver row it came from, so its 15
/// trade fields are that row's: they are compared field by field when that
/// row is not the accepted one. What Gold computes itself is compared on
/// every row: the vendor_data JSON, the event time that places the row in its
/// partition (the partition columns are a function of it), and the ingestion
/// timestamp.
struct GoldContent {
    static let name = "gold_content"
    private(set) var problems: [String] = []

    var result: CheckResult { .from(Self.name, problems: problems) }

    private let snapshots: [Snapshot]
    private var snapIndex = 0
    /// The recomputed batch timestamp of snapshot `snapIndex`, in microseconds.
    private var snapTimestampMicros: Micros?
    private var snapTimestampIndex = -1

    /// The row's vendor_data JSON as Gold holds it, and as expected (reused buffers).
    private var held: [UInt8] = [], expected: [UInt8] = []

    init(_ p: Pipeline) { snapshots = p.gold.snapshots }

    mutating func visit(_ v: GoldRows.Visit, _ gold: GoldTable, _ silver: [SilverTable], _ model: GoldRecomputation) {
        let i = v.index
        while snapIndex < snapshots.count && i >= snapshots[snapIndex].firstRow + snapshots[snapIndex].rowCount { snapIndex += 1 }
        // Second copies and ids no batch accepted are the exactly-once checker's.
        guard v.occurrence == 1, let a = v.accepted, let accepted = v.acceptedColumns else { return }
        let source = silver[a.input]
        if a != v.source {
            // Gold holds vendor_data only as its JSON string, compared below.
            var fields = silver[v.source.input].row(v.source.row).trade
            let want = source.row(a.row).trade
            fields.vendorData = want.vendorData
            if fields != want { problems.append("Gold row \(i) (\(gold.messageId(i))) differs from its Silver row") }
        }
        // Gold's vendor_data of row i, made through its lineage (`GoldTable.vendorDataJSON`),
        // and the expected JSON, compared as bytes in two buffers kept across rows.
        let isObject = v.sourceColumns.goldVendorDataJSON(into: &held)
        let entries = accepted.vendorEntries
        if let entries { Self.vendorJSON(entries, into: &expected) }
        if isObject != (entries != nil) || (isObject && held != expected) {
            let json = v.sourceColumns.goldVendorDataJSON, vendor = entries.map { Self.vendorJSON($0) }
            problems.append("Gold row \(i) (\(gold.messageId(i))): vendor_data \(json ?? "null"), expected \(vendor ?? "null")")
        }
        let eventSeconds = Time.floorDiv(accepted.timestampMicros, Time.microsPerSecond)
        if v.eventSeconds != eventSeconds {
            let held = UTCDateTime(micros: v.eventSeconds * Time.microsPerSecond)
            let civil = UTCDateTime(micros: eventSeconds * Time.microsPerSecond)
            problems.append("Gold row \(i) (\(gold.messageId(i))): partition \(held.dateString)/\(held.hour), event time says \(civil.dateString)/\(civil.hour)")
        }
        if snapIndex < snapshots.count {
            if snapTimestampIndex != snapIndex {
                snapTimestampIndex = snapIndex
                snapTimestampMicros = model.batchTimestampMs[snapshots[snapIndex].batchId].map { $0 * Time.microsPerMilli }
            }
            if let ts = snapTimestampMicros, gold.ingestionMicros(i) != ts {
                problems.append("Gold row \(i) (\(gold.messageId(i))): gold_ingestion_timestamp is not its batch's timestamp")
            }
        }
    }

    /// Gold's vendor_data from the map's entries (in any order): a JSON object
    /// with keys sorted by UTF-8 bytes, strings escaped by the JSON writer of
    /// the summaries (`JSONValue`), not by the engine's; what
    /// `JSONValue.object(map).compact` writes, without building the map.
    static func vendorJSON(_ entries: [(key: String, value: String)]) -> String {
        var out: [UInt8] = []
        vendorJSON(entries, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `vendorJSON`'s UTF-8 into `out` (emptied first).
    static func vendorJSON(_ entries: [(key: String, value: String)], into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(UInt8(ascii: "{"))
        let sorted = entries.count < 2 ? entries : entries.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
        for (n, e) in sorted.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.writeString(e.key, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONValue.writeString(e.value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
