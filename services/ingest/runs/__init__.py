"""The run lifecycle: create or resume, update, finish, heartbeat, and the crashed-run pass."""
