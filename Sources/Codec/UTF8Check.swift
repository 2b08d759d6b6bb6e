#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Well-formed UTF-8 as the Unicode standard defines it (Table 3-7): no
/// overlong forms, no surrogates (U+D800...U+DFFF), nothing above U+10FFFF,
/// no truncated sequence. The same rule `String(validating:as: UTF8.self)`
/// applies, without building a String.
///
/// The Avro specification encodes a string as "a long followed by that many
/// bytes of UTF-8 encoded character data", so bytes that are not UTF-8 are
/// not an Avro string: the pre-scan refuses them (AVRO_DECODE_ERROR) instead
/// of letting the decoder repair them into U+FFFD.
enum UTF8Check {
    @inline(__always)
    static func isValid(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var i = 0
        // ASCII fast path, 8 bytes at a time.
        while i + 8 <= count {
            let w = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            if w & 0x8080_8080_8080_8080 != 0 { break }
            i += 8
        }
        while i < count {
            let b0 = p[i]
            if b0 < 0x80 { i += 1; continue }
            func cont(_ k: Int) -> Bool { i + k < count && p[i + k] & 0xC0 == 0x80 }
            switch b0 {
            case 0xC2...0xDF:
                guard cont(1) else { return false }
                i += 2
            case 0xE0...0xEF:
                guard i + 1 < count else { return false }
                let b1 = p[i + 1]
                let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80, hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
                guard b1 >= lo, b1 <= hi, cont(2) else { return false }
                i += 3
            case 0xF0...0xF4:
                guard i + 1 < count else { return false }
                let b1 = p[i + 1]
                let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80, hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
                guard b1 >= lo, b1 <= hi, cont(2), cont(3) else { return false }
                i += 4
            default:
                return false
            }
        }
        return true
    }

    /// No NUL byte: libavro hands map keys over as C strings, so a key with
    /// a NUL would silently lose its tail.
    @inline(__always)
    static func hasNoNUL(_ p: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        memchr(p, 0, count) == nil
    }
}
