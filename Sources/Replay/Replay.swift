// Captures; see Capture.swift.
