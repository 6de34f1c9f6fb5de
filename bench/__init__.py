"""Benchmark rig for monitor: loopback feed server, webhook receiver, peer measurements.

Nothing here is part of the installed package; see bench/README.md.
"""
