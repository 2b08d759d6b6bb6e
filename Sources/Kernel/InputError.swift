/// Bad input from a user's file — a scenario, a profile, a capture. It names
/// the file, the line (1-based, 0 when the file could not be read at all) and
/// the problem, and the command line turns it into exit status 2.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int?
    public let problem: String

    public init(file: String, line: Int, column: Int? = nil, problem: String) {
        self.file = file; self.line = line; self.column = column; self.problem = problem
    }

    /// `scenarios/x.yaml:12:5: unknown key 'trigerr' in jobs.gold (expected: ...)`
    public var description: String {
        var s = file
        if line > 0 { s += ":\(line)" }
        if let c = column, line > 0 { s += ":\(c)" }
        return s + ": " + problem
    }
}
