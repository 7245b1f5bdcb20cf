"""Synthetic AI-cluster boundary traffic with labelled attacks, exported as real IPFIX over UDP."""
