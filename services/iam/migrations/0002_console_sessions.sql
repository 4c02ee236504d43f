-- Web console sessions, shared by every console replica. The session id (the cookie) is stored only as
-- its SHA-256; the API key the session calls with is sealed (AES-GCM) under a key derived from the
-- session id, so neither a session nor a key can be taken from a database dump.
CREATE TABLE console_sessions (
    id_hash      bytea PRIMARY KEY,                     -- SHA-256 of the session id, never the id
    api_key_id   text NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    principal    text NOT NULL,                         -- who signed in (shown; calls use the key)
    sealed_key   bytea NOT NULL,                        -- nonce || AES-GCM(API key)
    create_time  timestamptz NOT NULL DEFAULT now(),
    expire_time  timestamptz NOT NULL,
    revoke_time  timestamptz                            -- signed out
);
CREATE INDEX console_sessions_api_key ON console_sessions (api_key_id);
CREATE INDEX console_sessions_expire ON console_sessions (expire_time);

-- Consoles cache validated sessions for a few seconds; signing out (or ending a session early)
-- notifies them all at commit so they drop their caches at once. Revoking the API key a session
-- was made from already notifies 'strata_auth' (api_keys_auth_changed), which consoles also hear.
CREATE FUNCTION console_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('strata_console_sessions', '');
    RETURN NULL;
END $$;
CREATE TRIGGER console_sessions_ended AFTER UPDATE OF revoke_time, expire_time ON console_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION console_sessions_changed();
