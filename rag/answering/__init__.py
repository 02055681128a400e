"""The answer decision: the trained reader, its span decoding and the one place that decides."""
