import Codec
import Engine
import Exchanges

/// Each dead letter is in the DLQ under the right reason, with its source
/// address and raw bytes intact, and no valid trade is there: against the
/// ground-truth labels where there are some (a confusion matrix of injected
/// reason against DLQ reason), and against what the bytes themselves say
/// wherever that is determined without the codec (always, labels or not).
struct DLQCategorization {
    static let name = "dlq_categorization"
    private(set) var problems: [String] = []
    /// DLQ rows per reason (rows that are their Bronze row's first claim).
    private(set) var byReason: [DeadLetterReason: Int64] = [:]
    /// Injected (a reason or VALID) -> actual (a reason, NOT_IN_DLQ or IN_FLIGHT) -> rows;
    /// nil without ground truth.
    private(set) var confusion: [String: [String: Int64]]?

    var result: CheckResult { .from(Self.name, problems: problems) }

    init(_ input: OracleInput, _ tables: ExchangeTables, fates: BronzeFates) {
        let p = input.pipeline, truth = input.groundTruth
        let layouts = ReferenceTradeReader.Layouts(registry: input.registry)
        // Labelled dead letters that Silver accepted (each Silver row through
        // the Bronze row it claimed first; reported in Silver row order).
        if let truth {
            for k in tables.exchanges.indices {
                var found: [(row: Int, problem: String)] = []
                for b in 0..<tables.bronze[k].rowCount {
                    guard case .silver(let i) = fates[k, b], let l = tables.label(truth, k, b), case .deadLetter(let want) = l.outcome else { continue }
                    found.append((i, "\(tables.address(k, b)) should be in the DLQ as \(want.rawValue) but is in \(tables.silver[k].name.rawValue)"))
                }
                problems += found.sorted { $0.row < $1.row }.map(\.problem)
            }
        }
        // Each DLQ row against its Bronze row and its bytes.
        for i in 0..<p.dlq.rowCount {
            let row = p.dlq.row(i)
            guard let k = tables.bronze.firstIndex(where: { $0.name == row.sourceTable }) else {
                problems.append("DLQ row \(i) comes from \(row.sourceTable.rawValue), not a Bronze table"); continue
            }
            let bronze = tables.bronze[k], b = row.sourceBronzeRow
            guard b >= 0 && b < bronze.rowCount else { problems.append("DLQ row \(i) points at a missing Bronze row"); continue }
            // A second claim on a Bronze row is the exactly-once checker's.
            guard fates[k, b] == .deadLetter(row: i) else { continue }
            byReason[row.errorReason, default: 0] += 1
            if row.sourceTopic != bronze.topicName || row.sourcePartition != bronze.partitionOf(b) || row.sourceOffset != bronze.offsetOf(b) {
                problems.append("DLQ row \(i): source \(row.sourceTopic)-\(row.sourcePartition)@\(row.sourceOffset) is not its Bronze row's")
            }
            if row.rawValue != bronze.value(b) { problems.append("DLQ row \(i): raw bytes differ from its Bronze row") }
            if row.errorCategory != row.errorReason.category {
                problems.append("DLQ row \(i): category \(row.errorCategory.rawValue) does not own reason \(row.errorReason.rawValue)")
            }
            let e = tables.exchanges[k]
            if row.exchange != e.rawValue { problems.append("DLQ row \(i): exchange \(row.exchange), topic of \(e.rawValue)") }
            if let want = Self.independentReason(bronze.value(b), exchange: e, registry: input.registry, layouts: layouts), want != row.errorReason {
                problems.append("DLQ row \(i) (\(row.sourceTopic)-\(row.sourcePartition)@\(row.sourceOffset)): reason \(row.errorReason.rawValue), the bytes say \(want.rawValue)")
            }
        }
        // Injected against actual, over every labelled Bronze row.
        guard let truth else { return }
        var confusion: [String: [String: Int64]] = [:]
        for k in tables.exchanges.indices {
            for b in 0..<tables.bronze[k].rowCount {
                guard let l = tables.label(truth, k, b) else { continue }
                let injected: String
                if case .deadLetter(let want) = l.outcome { injected = want.rawValue } else { injected = "VALID" }
                let actual: String
                switch fates[k, b] {
                case .nowhere: actual = "IN_FLIGHT"
                case .deadLetter(let row): actual = p.dlq.row(row).errorReason.rawValue
                case .silver: actual = "NOT_IN_DLQ"
                }
                confusion[injected, default: [:]][actual, default: 0] += 1
                guard case .deadLetter = fates[k, b] else { continue }
                if case .deadLetter(let want) = l.outcome, actual != want.rawValue {
                    problems.append("\(tables.address(k, b)): injected \(want.rawValue), DLQ says \(actual)")
                }
                if injected == "VALID" {
                    problems.append("a valid trade (\(tables.address(k, b))) landed in the DLQ as \(actual)")
                }
            }
        }
        self.confusion = confusion
    }

    /// The DLQ reason the bytes themselves determine, without the codec: the
    /// header checks, a schema id the registry does not know, and — for the
    /// two trade layouts, under whatever ids they are registered — the
    /// reference reader and the validation rules. nil when only the codec can
    /// tell (another registered writer schema).
    static func independentReason(_ bytes: [UInt8], exchange: ExchangeName, registry: SchemaRegistry,
                                  layouts: ReferenceTradeReader.Layouts) -> DeadLetterReason? {
        if bytes.isEmpty { return .emptyPayload }
        if bytes.count < 5 { return .truncatedHeader }
        if bytes[0] != 0 { return .invalidMagicByte }
        guard let id = WireFormat.schemaId(of: bytes) else { return nil }
        if registry.schemaJSON(id: id) == nil { return .unknownSchemaId }
        guard layouts.layout(of: id) != nil else { return nil }
        switch ReferenceTradeReader.classify(bytes, layouts: layouts) {
        case .unreadable: return .avroDecodeError
        case .trailingBytes: return .trailingBytes
        case .trade(let t, _): return TradeValidator.firstFailure(t, topicExchange: exchange)
        }
    }
}
