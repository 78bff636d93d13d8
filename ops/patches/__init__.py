"""Where this project leans on a library's private internals, one module per
library: what a supported setting, a public hook or a subclass could not do.

Each module names the exact version it was written against (`WRITTEN_FOR`,
the pin in requirements.txt) and touches the library's private names only
here; ops/tests/test_patches.py fails when the installed version differs or
when one of those names is gone or behaves otherwise, so an upgrade stops at
the test that names what to re-check (docs/deploy.md, "Library patches").

These modules import nothing of the project: what they install (a factory, a
function) is passed in by the code that owns it.
"""
