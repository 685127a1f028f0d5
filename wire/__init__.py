"""Wire formats chatlab reads and writes, without I/O."""
