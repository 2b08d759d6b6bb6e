import Foundation
import Kernel

/// Writer schemas exported from a Confluent Schema Registry, for captures
/// whose source carries none (Kafka segments, Bronze exports).
///
/// `--schemas DIR` reads, recursively, in path order:
/// - `*.json` files holding the registry's REST answers:
///   `GET /subjects/{subject}/versions/{version}` (`{"subject","version","id","schema"}`),
///   `GET /schemas` (an array of those), or `GET /schemas/ids/{id}`
///   (`{"schema"}` only: the id is the file name's number, e.g. `ids/100042.json`;
///   such a schema is registered under the subject `ids/<id>`);
/// - a `_schemas-<partition>` directory: the registry's own Kafka topic
///   (records keyed `{"keytype":"SCHEMA",...}` with the schema as value;
///   deleted or null values and other key types are skipped).
/// Only AVRO schemas are read (`schemaType` absent or `AVRO`).
public enum RegistryExport {
    public static func load(_ path: String) throws(InputError) -> [CapturedSchema] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw InputError(file: path, line: 0, problem: "no such file or directory (--schemas)")
        }
        var out: [CapturedSchema] = []
        if !isDir.boolValue {
            try readAnswer(path, into: &out)
            return out
        }
        if let (topic, _) = KafkaLog.topicPartition(directoryName: (path as NSString).lastPathComponent), topic == "_schemas" {
            try readTopic(path, into: &out)
            return out
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
            throw InputError(file: path, line: 0, problem: "cannot list the directory")
        }
        for n in names where !n.hasPrefix(".") {
            let p = path + "/" + n
            var d: ObjCBool = false
            FileManager.default.fileExists(atPath: p, isDirectory: &d)
            if d.boolValue { out += try load(p) } else if n.hasSuffix(".json") { try readAnswer(p, into: &out) }
        }
        return out
    }

    static func object(_ v: OrderedJSON, file: String, at what: String) throws(InputError) -> CapturedSchema? {
        guard case .object = v else { throw InputError(file: file, line: 0, problem: "\(what) is not a JSON object") }
        if let t = v["schemaType"]?.stringValue, t != "AVRO" { return nil }
        guard let schema = v["schema"]?.stringValue else {
            throw InputError(file: file, line: 0, problem: "\(what) has no \"schema\" (not a Schema Registry answer)")
        }
        let id: Int
        let subject: String
        if let i = v["id"]?.intValue {
            id = i
            guard let s = v["subject"]?.stringValue else { throw InputError(file: file, line: 0, problem: "\(what) has an id but no subject") }
            subject = s
        } else {
            // GET /schemas/ids/{id}: the id is in the name the answer was saved under.
            let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let digits = name.reversed().prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let i = Int(String(digits.reversed())) else {
                throw InputError(file: file, line: 0, problem: "a GET /schemas/ids/{id} answer must be saved as <id>.json (the answer does not say its id)")
            }
            id = i
            subject = "ids/\(i)"
        }
        guard id > 0, id <= Int(Int32.max) else { throw InputError(file: file, line: 0, problem: "\(what): schema id \(id) out of range") }
        return CapturedSchema(id: Int32(id), subject: subject, schema: schema)
    }

    static func readAnswer(_ file: String, into out: inout [CapturedSchema]) throws(InputError) {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: file, line: 0, problem: "cannot read the registry answer")
        }
        let doc: OrderedJSON
        do { doc = try OrderedJSON.parse(text) } catch {
            throw InputError(file: file, line: 0, problem: "not JSON: \(error)")
        }
        if case .array(let items) = doc {
            for (i, item) in items.enumerated() { if let s = try object(item, file: file, at: "element \(i)") { out.append(s) } }
        } else if let s = try object(doc, file: file, at: "the answer") {
            out.append(s)
        }
    }

    static func readTopic(_ dir: String, into out: inout [CapturedSchema]) throws(InputError) {
        let (records, _) = try KafkaLog.records(files: try KafkaLog.segmentFiles(in: dir), topic: "_schemas", partition: 0)
        for r in records {
            guard let k = r.key, let keyText = String(validating: k, as: UTF8.self),
                  let key = try? OrderedJSON.parse(keyText), key["keytype"]?.stringValue == "SCHEMA" else { continue }
            guard let v = r.value, let valueText = String(validating: v, as: UTF8.self) else { continue }  // tombstone
            let value: OrderedJSON
            do { value = try OrderedJSON.parse(valueText) } catch {
                throw InputError(file: dir, line: 0, problem: "offset \(r.offset): the schema record is not JSON: \(error)")
            }
            if case .bool(true)? = value["deleted"] { continue }
            if let s = try object(value, file: dir, at: "offset \(r.offset)") { out.append(s) }
        }
    }
}
