import Kernel
import CAvro
import Foundation  // NSLock only

/// Why a registration was refused. A struct with a description rather than
/// an enum, so that new kinds of refusal do not break callers.
public struct SchemaRegistryError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case invalidSchema, idConflict, invalidId }
    public let kind: Kind
    public let subject: String
    public let message: String
    public var description: String { "schema registry, subject '\(subject)': \(message)" }
}

/// An in-memory Confluent-style schema registry: subjects with versions,
/// globally unique schema ids.
///
/// As in Confluent, the same schema under any subject gets the same id;
/// "the same" means the same JSON once whitespace is removed (key order and
/// every attribute still count). Ids never change meaning once assigned, so
/// decoders may cache what they derive from an id forever.
///
/// Thread-safe: decoders on several threads look schemas up while a replay
/// may register new ones.
public final class SchemaRegistry: @unchecked Sendable {
    struct Entry: Sendable {
        let json: String
        let canonical: String
        let graph: AvroSchemaGraph
    }

    private let lock = NSLock()
    private var byId: [Int32: Entry] = [:]
    private var idByCanonical: [String: Int32] = [:]
    private var subjects: [String: [Int32]] = [:]
    private var nextId: Int32 = 1

    public init() {}

    /// V1 (id 1) and V2 (id 2) under both exchanges' subjects, V1 first so
    /// that V2 is each subject's latest version.
    public static func standard() -> SchemaRegistry {
        let r = SchemaRegistry()
        for e in ExchangeName.allCases {
            // The trade schemas are constants checked by the tests: failing here is a programming error.
            try! r.register(subject: e.subject, schemaJSON: TradeSchemas.v1JSON, id: TradeSchemas.v1Id)
            try! r.register(subject: e.subject, schemaJSON: TradeSchemas.v2JSON, id: TradeSchemas.v2Id)
        }
        return r
    }

    /// Parses with both the Swift parser (which keeps logical types) and
    /// libavro (which is what will read the bytes); both must accept.
    private static func validate(subject: String, _ json: String) throws(SchemaRegistryError) -> Entry {
        let graph: AvroSchemaGraph
        do { graph = try AvroSchemaGraph(json: json) } catch {
            throw SchemaRegistryError(kind: .invalidSchema, subject: subject, message: "not a valid Avro schema: \(error.problem)")
        }
        guard let schema = AvroRuntime.parseSchema(json) else {
            throw SchemaRegistryError(kind: .invalidSchema, subject: subject, message: "libavro refuses the schema")
        }
        avro_schema_decref(schema)
        let canonical = (try? OrderedJSON.parse(json).canonicalText) ?? json
        return Entry(json: json, canonical: canonical, graph: graph)
    }

    /// Registers `schemaJSON` under `subject` and returns its id: the existing
    /// id if this schema is registered under any subject, else the next free id.
    @discardableResult
    public func register(subject: String, schemaJSON: String) throws -> Int32 {
        let entry = try Self.validate(subject: subject, schemaJSON)
        lock.lock(); defer { lock.unlock() }
        let id: Int32
        if let existing = idByCanonical[entry.canonical] {
            id = existing
        } else {
            while byId[nextId] != nil { nextId += 1 }
            id = nextId
            byId[id] = entry
            idByCanonical[entry.canonical] = id
        }
        appendVersion(id, subject)
        return id
    }

    /// Registers a schema under the id a capture states. The same schema at
    /// the same id is a no-op; another schema at a taken id is a conflict.
    public func register(subject: String, schemaJSON: String, id: Int32) throws {
        guard id > 0 else {
            throw SchemaRegistryError(kind: .invalidId, subject: subject, message: "schema id \(id) is not positive")
        }
        let entry = try Self.validate(subject: subject, schemaJSON)
        lock.lock(); defer { lock.unlock() }
        if let existing = byId[id] {
            guard existing.canonical == entry.canonical else {
                throw SchemaRegistryError(kind: .idConflict, subject: subject,
                                          message: "schema id \(id) is already registered with a different schema")
            }
        } else {
            byId[id] = entry
            if idByCanonical[entry.canonical] == nil { idByCanonical[entry.canonical] = id }
        }
        appendVersion(id, subject)
    }

    private func appendVersion(_ id: Int32, _ subject: String) {
        var versions = subjects[subject, default: []]
        if !versions.contains(id) { versions.append(id) }
        subjects[subject] = versions
    }

    public func schemaJSON(id: Int32) -> String? {
        lock.lock(); defer { lock.unlock() }
        return byId[id]?.json
    }

    /// Schema ids under `subject`, in version order (version 1 first).
    public func versions(subject: String) -> [Int32] {
        lock.lock(); defer { lock.unlock() }
        return subjects[subject] ?? []
    }

    public func latestId(subject: String) -> Int32? {
        versions(subject: subject).last
    }

    /// All subjects, sorted (never iterate the dictionary into output).
    public func allSubjects() -> [String] {
        lock.lock(); defer { lock.unlock() }
        return subjects.keys.sorted()
    }

    func entry(id: Int32) -> Entry? {
        lock.lock(); defer { lock.unlock() }
        return byId[id]
    }
}
