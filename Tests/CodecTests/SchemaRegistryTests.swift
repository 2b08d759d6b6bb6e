import Testing
@testable import Codec

@Suite struct SchemaRegistryTests {
    @Test func standardHasV1ThenV2UnderBothSubjects() {
        let r = SchemaRegistry.standard()
        for e in ExchangeName.allCases {
            #expect(r.versions(subject: e.subject) == [1, 2])
            #expect(r.latestId(subject: e.subject) == 2)
        }
        #expect(r.schemaJSON(id: 1) == TradeSchemas.v1JSON)
        #expect(r.schemaJSON(id: 2) == TradeSchemas.v2JSON)
        #expect(r.schemaJSON(id: 3) == nil)
        #expect(r.latestId(subject: "nope-value") == nil)
    }

    @Test func sameSchemaSameIdAcrossSubjects() throws {
        let r = SchemaRegistry()
        let a = try r.register(subject: "s1", schemaJSON: TradeSchemas.v2JSON)
        let b = try r.register(subject: "s2", schemaJSON: TradeSchemas.v2JSON)
        // Whitespace does not make a schema different.
        let spaced = TradeSchemas.v2JSON.replacingOccurrences(of: ",", with: ",\n  ")
        let c = try r.register(subject: "s3", schemaJSON: spaced)
        let d = try r.register(subject: "s1", schemaJSON: TradeSchemas.v1JSON)
        #expect([a, b, c, d] == [1, 1, 1, 2])
        #expect(r.versions(subject: "s1") == [1, 2])
        #expect(r.allSubjects() == ["s1", "s2", "s3"])
    }

    @Test func statedIdsAndConflicts() throws {
        let r = SchemaRegistry()
        try r.register(subject: "s", schemaJSON: TradeSchemas.v1JSON, id: 7)
        try r.register(subject: "s", schemaJSON: TradeSchemas.v1JSON, id: 7)  // idempotent
        #expect(throws: SchemaRegistryError.self) { try r.register(subject: "s", schemaJSON: TradeSchemas.v2JSON, id: 7) }
        #expect(throws: SchemaRegistryError.self) { try r.register(subject: "s", schemaJSON: TradeSchemas.v2JSON, id: 0) }
        #expect(try r.register(subject: "t", schemaJSON: TradeSchemas.v2JSON) == 1)
        #expect(try r.register(subject: "t", schemaJSON: #"{"type":"string"}"#) == 2)
        #expect(r.versions(subject: "s") == [7])
    }

    @Test func unparseableSchemasAreRefusedClearly() {
        let r = SchemaRegistry()
        for bad in ["", "{", #"{"type":"record","name":"T"}"#, #"{"type":"nosuch"}"#, #"["null","null"]"#,
                    #"{"type":"enum","name":"E","symbols":[]}"#, "[1,2]"] {
            do {
                try r.register(subject: "s", schemaJSON: bad)
                Issue.record("accepted \(bad)")
            } catch let e as SchemaRegistryError {
                #expect(e.kind == .invalidSchema)
                #expect(e.description.contains("subject 's'"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(r.versions(subject: "s").isEmpty)
    }

    /// libavro keeps the last of a repeated key (here the string field), the
    /// codec's schema graph would have read the first: the pre-scan would
    /// check the bytes against a layout libavro does not read.
    @Test func aSchemaWithARepeatedKeyIsRefused() {
        let r = SchemaRegistry()
        let twice = #"{"type":"record","name":"T","fields":[{"name":"x","type":"long"}],"fields":[{"name":"y","type":"string"}]}"#
        do {
            try r.register(subject: "s", schemaJSON: twice)
            Issue.record("accepted a schema with two 'fields'")
        } catch let e as SchemaRegistryError {
            #expect(e.kind == .invalidSchema)
            #expect(e.description.contains("duplicate key 'fields'"), "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
