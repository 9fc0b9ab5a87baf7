"""`sifa backup` and `sifa restore`: a consistent copy of a running installation, and getting it
back. The database is taken first, then the files it points at (issued documents never change,
so copying them afterwards is safe); a manifest of hashes proves the copy is whole."""
