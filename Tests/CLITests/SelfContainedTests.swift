import Testing
import TestSupport

/// A clone of the repository is all a reader has: no code or doc may send
/// them to a file outside it (scripts/check-self-contained.sh lists the
/// patterns; docs/REFERENCE.md and docs/AVRO-LIBRARY.md are where such
/// references point instead).
@Suite struct SelfContainedTests {
    @Test func nothingPointsOutsideTheRepository() async throws {
        let r = try await CLI.shell("scripts/check-self-contained.sh", cwd: Repository.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "self-contained: no reference points outside the repository\n")
    }
}
