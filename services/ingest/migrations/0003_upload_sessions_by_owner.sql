-- Open upload sessions are counted per owner when one is created (a per-caller limit).
CREATE INDEX upload_sessions_open_owner ON upload_sessions (owner_name) WHERE state = 1;
