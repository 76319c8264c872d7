"""Thin MCP adapters over the domain: typed parameters, typed results, annotations, progress."""
