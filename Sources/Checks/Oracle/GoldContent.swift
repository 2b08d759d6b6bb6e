import Engine
import Kernel

/// Each Gold row equals the Silver row the recomputation accepted for its
/// message id: the same trade, vendor_data as a JSON object with keys sorted by
/// UTF-8 bytes, the exchange_date / exchange_hour partition of its event time
/// (UTC, whole seconds), and its batch's timestamp as gold_ingestion_timestamp.
struct GoldContent {
    static let name = "gold_content"
    private(set) var problems: [String] = []

    var result: CheckResult { .from(Self.name, problems: problems) }

    private let snapshots: [Snapshot]
    private var snapIndex = 0

    init(_ p: Pipeline) { snapshots = p.gold.snapshots }

    mutating func visit(_ v: GoldRows.Visit, _ model: GoldRecomputation) {
        let i = v.index, row = v.row, id = row.trade.messageId
        while snapIndex < snapshots.count && i >= snapshots[snapIndex].firstRow + snapshots[snapIndex].rowCount { snapIndex += 1 }
        // Second copies and ids no batch accepted are the exactly-once checker's.
        guard v.occurrence == 1, let source = v.accepted?.row.trade else { return }
        // Gold holds vendor_data only as its JSON string, compared below.
        var fields = row.trade
        fields.vendorData = source.vendorData
        if fields != source { problems.append("Gold row \(i) (\(id)) differs from its Silver row") }
        let vendor = source.vendorData.map { Self.vendorJSON($0) }
        if row.vendorDataJSON != vendor {
            problems.append("Gold row \(i) (\(id)): vendor_data \(row.vendorDataJSON ?? "null"), expected \(vendor ?? "null")")
        }
        let eventSeconds = Time.floorDiv(source.timestampMicros, Time.microsPerSecond)
        let civil = UTCDateTime(micros: eventSeconds * Time.microsPerSecond)
        if row.eventTimeSeconds != eventSeconds || row.exchangeDate != civil.dateString || Int64(row.exchangeHour) != civil.hour {
            problems.append("Gold row \(i) (\(id)): partition \(row.exchangeDate)/\(row.exchangeHour), event time says \(civil.dateString)/\(civil.hour)")
        }
        if snapIndex < snapshots.count, let ts = model.batchTimestampMs[snapshots[snapIndex].batchId],
           row.goldIngestionTimestampMicros != ts * Time.microsPerMilli {
            problems.append("Gold row \(i) (\(id)): gold_ingestion_timestamp is not its batch's timestamp")
        }
    }

    /// Gold's vendor_data: a JSON object with keys sorted by UTF-8 bytes.
    static func vendorJSON(_ m: [String: String]) -> String {
        JSONValue.object(m.mapValues { .string($0) }).compact
    }
}
