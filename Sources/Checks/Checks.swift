// The Checks module; see docs/ARCHITECTURE.md.
