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
        // Gold's vendor_data of row i, made through its lineage (`GoldTable.vendorDataJSON`).
        let json = v.sourceColumns.goldVendorDataJSON
        let vendor = accepted.vendorEntries.map { Self.vendorJSON($0) }
        if json != vendor {
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
        if entries.isEmpty { return "{}" }
        var out = "{"
        for (n, e) in entries.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
            if n > 0 { out += "," }
            JSONValue.writeString(e.key, into: &out)
            out += ":"
            JSONValue.writeString(e.value, into: &out)
        }
        return out + "}"
    }
}
