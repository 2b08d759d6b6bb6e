// The Exchanges module; see docs/ARCHITECTURE.md.
