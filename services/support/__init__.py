"""Makes this folder a package for pytest, so its tests have a unique module name."""
