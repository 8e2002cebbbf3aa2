"""Benchmarks: one runner per runtime (host and adb) behind one Runner protocol, plus reporting.

Long measurements live here, not in the tests; their outputs go to ``benchmarks/results/`` next
to the exact command that produced them."""
