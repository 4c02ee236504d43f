"""Tests of the shared server code: errors, names, blob stores, migrations, TLS."""
