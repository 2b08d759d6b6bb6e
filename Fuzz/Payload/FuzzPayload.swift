// libFuzzer target: a Kafka payload (Confluent framing + Avro body) through
// Silver's decode and validation, differentially against the oracle's
// independent reader. Any disagreement on the DLQ reason is a crash.
import Checks
import Codec
import FuzzDriver
import Kernel

let registry = SchemaRegistry.standard()
nonisolated(unsafe) let decoder = TradeDecoder(registry: registry)
nonisolated(unsafe) let layouts = ReferenceTradeReader.Layouts(registry: registry)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPayload(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    for exchange in [ExchangeName.binance, .kraken] {
        let engine = PayloadDifferential.engineReason(bytes, decoder: decoder, exchange: exchange)
        if let oracle = PayloadDifferential.oracleReason(bytes, exchange: exchange, registry: registry, layouts: layouts), oracle != engine {
            fatalError("engine and oracle disagree on \(exchange): engine \(engine?.rawValue ?? "valid"), oracle \(oracle?.rawValue ?? "valid"), payload \(bytes)")
        }
    }
    return 0
}
