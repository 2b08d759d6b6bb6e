/// How a writer schema's fields become the V2 trade: Avro schema resolution,
/// done in Swift because libavro's resolver cannot fill defaults and can
/// crash on a reader field the writer lacks (docs/AVRO-LIBRARY.md).
///
/// Computed once per writer schema id. Fields are matched by name, so a
/// writer with fields in another order or with extra fields (skipped) still
/// resolves; a V2 field the writer lacks takes the V2 default when V2
/// declares one (trade_conditions [], source_sequence, platform_sequence and
/// vendor_data null), and makes the schema incompatible otherwise.
struct TradeResolution: Sendable {
    /// A number as the writer wrote it: int promotes to long (Avro rule).
    enum Num: UInt8, Sendable { case null, long, int }

    struct OptionalLong: Sendable {
        /// Writer field index; -1 when the writer lacks the field (null).
        var index = -1
        /// Non-union writer field: its type.
        var direct: Num? = nil
        /// Union writer field: each branch's type.
        var branches: [Num] = []
    }

    struct OptionalMap: Sendable {
        var index = -1
        /// Non-union writer field: true for map<string>, false for null.
        var direct: Bool? = nil
        /// Union writer field: true for the map<string> branch, false for null.
        var branches: [Bool] = []
    }

    var writerFieldCount = 0
    var messageId = 0, tradeId = 0, symbol = 0, exchange = 0, assetClass = 0, currency = 0
    var timestamp = 0, ingestionTimestamp = 0
    var timestampIsInt = false, ingestionIsInt = false
    var price = 0, quantity = 0
    var side = 0
    /// Writer enum index -> Side, by symbol name.
    var sideSymbols: [Side] = []
    /// -1: the writer lacks trade_conditions (default []).
    var tradeConditions = -1
    var sourceSequence = OptionalLong()
    var platformSequence = OptionalLong()
    var vendorData = OptionalMap()
    /// The writer lacks all three fields V2 added: a V1 writer.
    var writerIsV1 = false

    /// Nil and a sentence when the writer cannot be read as V2.
    static func resolve(_ g: AvroSchemaGraph) -> Result<TradeResolution, ResolveError> {
        let root = g[g.root]
        guard root.kind == .record else { return .failure(ResolveError(message: "writer schema is not a record")) }
        var r = TradeResolution()
        r.writerFieldCount = root.fields.count
        func find(_ name: String) -> (Int, AvroSchemaGraph.Node)? {
            guard let i = root.fields.firstIndex(where: { $0.name == name }) else { return nil }
            return (i, g[root.fields[i].type])
        }
        func string(_ name: String) -> Result<Int, ResolveError> {
            guard let (i, n) = find(name) else { return .failure(ResolveError(message: "writer has no field '\(name)' and V2 declares no default")) }
            guard n.kind == .string else { return .failure(ResolveError(message: "field '\(name)' is \(n.kind), V2 needs string")) }
            return .success(i)
        }
        func long(_ name: String) -> Result<(Int, Bool), ResolveError> {
            guard let (i, n) = find(name) else { return .failure(ResolveError(message: "writer has no field '\(name)' and V2 declares no default")) }
            if n.kind == .long, n.logicalType == nil || n.logicalType == "timestamp-micros" { return .success((i, false)) }
            if n.kind == .int, n.logicalType == nil { return .success((i, true)) }
            let logical = n.logicalType.map { " (\($0))" } ?? ""
            return .failure(ResolveError(message: "field '\(name)' is \(n.kind)\(logical), V2 needs long timestamp-micros"))
        }
        func decimal(_ name: String) -> Result<Int, ResolveError> {
            guard let (i, n) = find(name) else { return .failure(ResolveError(message: "writer has no field '\(name)' and V2 declares no default")) }
            guard n.kind == .bytes, n.logicalType == "decimal" else {
                return .failure(ResolveError(message: "field '\(name)' is \(n.kind), V2 needs bytes decimal(18,8)"))
            }
            let scale = n.scale ?? 0
            guard let p = n.precision, p >= 1, scale >= 0, scale <= p else {
                return .failure(ResolveError(message: "field '\(name)' declares an invalid decimal(\(n.precision ?? 0),\(scale))"))
            }
            guard scale == 8 else { return .failure(ResolveError(message: "field '\(name)' is decimal(\(p),\(scale)), V2 needs scale 8")) }
            return .success(i)
        }
        func num(_ n: AvroSchemaGraph.Node) -> Num? {
            switch n.kind {
            case .null: return .null
            case .long where n.logicalType == nil: return .long
            case .int where n.logicalType == nil: return .int
            default: return nil
            }
        }
        func optionalLong(_ name: String) -> Result<OptionalLong, ResolveError> {
            var o = OptionalLong()
            guard let (i, n) = find(name) else { return .success(o) }
            o.index = i
            if n.kind == .union {
                for b in n.branches {
                    guard let k = num(g[b]) else { return .failure(ResolveError(message: "field '\(name)' has a \(g[b].kind) branch, V2 needs null or long")) }
                    o.branches.append(k)
                }
            } else {
                guard let k = num(n) else { return .failure(ResolveError(message: "field '\(name)' is \(n.kind), V2 needs null or long")) }
                o.direct = k
            }
            return .success(o)
        }
        func isStringMap(_ n: AvroSchemaGraph.Node) -> Bool { n.kind == .map && g[n.items].kind == .string }

        do throws(ResolveError) {
            r.messageId = try string("message_id").get()
            r.tradeId = try string("trade_id").get()
            r.symbol = try string("symbol").get()
            r.exchange = try string("exchange").get()
            r.assetClass = try string("asset_class").get()
            r.currency = try string("currency").get()
            (r.timestamp, r.timestampIsInt) = try long("timestamp").get()
            (r.ingestionTimestamp, r.ingestionIsInt) = try long("ingestion_timestamp").get()
            r.price = try decimal("price").get()
            r.quantity = try decimal("quantity").get()
            guard let (si, sn) = find("side") else { return .failure(ResolveError(message: "writer has no field 'side' and V2 declares no default")) }
            guard sn.kind == .enumeration else { return .failure(ResolveError(message: "field 'side' is \(sn.kind), V2 needs enum Side")) }
            r.side = si
            for s in sn.symbols {
                guard let side = Side(rawValue: s) else { return .failure(ResolveError(message: "enum 'side' has symbol '\(s)', which V2's Side lacks")) }
                r.sideSymbols.append(side)
            }
            if let (ci, cn) = find("trade_conditions") {
                guard cn.kind == .array, g[cn.items].kind == .string else {
                    return .failure(ResolveError(message: "field 'trade_conditions' is \(cn.kind), V2 needs array<string>"))
                }
                r.tradeConditions = ci
            }
            r.sourceSequence = try optionalLong("source_sequence").get()
            r.platformSequence = try optionalLong("platform_sequence").get()
            if let (vi, vn) = find("vendor_data") {
                r.vendorData.index = vi
                if vn.kind == .union {
                    for b in vn.branches {
                        let bn = g[b]
                        if bn.kind == .null { r.vendorData.branches.append(false) }
                        else if isStringMap(bn) { r.vendorData.branches.append(true) }
                        else { return .failure(ResolveError(message: "field 'vendor_data' has a \(bn.kind) branch, V2 needs null or map<string>")) }
                    }
                } else if vn.kind == .null {
                    r.vendorData.direct = false
                } else if isStringMap(vn) {
                    r.vendorData.direct = true
                } else {
                    return .failure(ResolveError(message: "field 'vendor_data' is \(vn.kind), V2 needs null or map<string>"))
                }
            }
        } catch {
            return .failure(error)
        }
        r.writerIsV1 = r.tradeConditions < 0 && r.platformSequence.index < 0 && r.vendorData.index < 0
        return .success(r)
    }
}

/// A resolution failure's sentence (becomes the DLQ error_message).
struct ResolveError: Error, Sendable { let message: String }
