"""Q2Q: free text to outcome scores with evidence (the taxonomy, the providers, the scrubber, scoring)."""
