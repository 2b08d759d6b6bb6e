// The Scenarios module; see docs/ARCHITECTURE.md.
