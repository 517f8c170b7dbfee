"""The offline preview engine: the person's own face framed and styled on the CPU, with no model."""
