/// JUnit XML: one test suite per scenario, one test case per check.
public struct JUnitReport: Sendable {
    public struct Case: Sendable {
        public var scenario: String
        public var check: String
        public var failure: String?
        public init(scenario: String, check: String, failure: String?) {
            self.scenario = scenario; self.check = check; self.failure = failure
        }
    }
    public var cases: [Case] = []
    public init() {}

    public var xml: String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = cases.filter { $0.failure != nil }.count
        out += "<testsuites name=\"medallion-sim\" tests=\"\(cases.count)\" failures=\"\(failures)\">\n"
        var scenarios: [String] = []
        for c in cases where !scenarios.contains(c.scenario) { scenarios.append(c.scenario) }
        for s in scenarios {
            let mine = cases.filter { $0.scenario == s }
            out += "  <testsuite name=\"\(escapeXML(s))\" tests=\"\(mine.count)\" failures=\"\(mine.filter { $0.failure != nil }.count)\">\n"
            for c in mine {
                out += "    <testcase classname=\"\(escapeXML(s))\" name=\"\(escapeXML(c.check))\""
                if let f = c.failure {
                    out += ">\n      <failure message=\"\(escapeXML(String(f.prefix(200))))\">\(escapeXML(f))</failure>\n    </testcase>\n"
                } else {
                    out += "/>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }
}

/// Text for XML and XHTML (JUnit reports, the what-if HTML report): the five
/// markup characters as entities, and the control characters XML 1.0 forbids
/// even escaped as `?`.
public func escapeXML(_ s: String) -> String {
    var o = ""
    for ch in s.unicodeScalars {
        switch ch {
        case "&": o += "&amp;"
        case "<": o += "&lt;"
        case ">": o += "&gt;"
        case "\"": o += "&quot;"
        case "'": o += "&#39;"
        default:
            if ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r" { o += "?" } else { o.unicodeScalars.append(ch) }
        }
    }
    return o
}
