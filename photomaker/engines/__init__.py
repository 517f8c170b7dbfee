"""Engines that make the images: the protocol, one entry per engine, and the remote and local backends."""
