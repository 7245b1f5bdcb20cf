"""Helpers for the Splunk content: load the YAML sources, render .conf files, check SPL statically."""
