/**
 * Numbered migrations, applied in order inside one transaction each; the schema version lives in
 * PRAGMA user_version. Never edit a released migration: add the next number.
 * (Kept as TypeScript strings so they ship inside dist/ with no copy step.)
 */
export interface Migration { version: number; name: string; sql: string }

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'channels',
    sql: `
      CREATE TABLE channels (
        name_folded  TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        topic        TEXT,
        topic_set_by TEXT,
        topic_set_at INTEGER,
        modes        TEXT NOT NULL,
        chan_key     TEXT,
        user_limit   INTEGER
      ) STRICT;
      CREATE TABLE channel_lists (
        channel  TEXT NOT NULL REFERENCES channels(name_folded) ON DELETE CASCADE,
        mode     TEXT NOT NULL CHECK (mode IN ('b', 'e', 'I')),
        mask     TEXT NOT NULL,
        set_by   TEXT NOT NULL,
        set_at   INTEGER NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (channel, mode, mask)
      ) STRICT;
    `,
  },
  {
    version: 2,
    name: 'identity',
    sql: `
      -- a DID owns one nick (the last it used while logged in)
      CREATE TABLE accounts (
        did           TEXT PRIMARY KEY,
        nick          TEXT,
        nick_folded   TEXT UNIQUE,
        handle        TEXT,
        last_login_at INTEGER NOT NULL
      ) STRICT;
      ALTER TABLE channels ADD COLUMN founder_did TEXT;
      CREATE TABLE channel_did_ops (
        channel    TEXT NOT NULL REFERENCES channels(name_folded) ON DELETE CASCADE,
        did        TEXT NOT NULL,
        granted_by TEXT NOT NULL,
        granted_at INTEGER NOT NULL,
        PRIMARY KEY (channel, did)
      ) STRICT;
      CREATE TABLE channel_did_invites (
        channel    TEXT NOT NULL REFERENCES channels(name_folded) ON DELETE CASCADE,
        did        TEXT NOT NULL,
        invited_by TEXT NOT NULL,
        invited_at INTEGER NOT NULL,
        PRIMARY KEY (channel, did)
      ) STRICT;
      CREATE TABLE did_cache (
        did        TEXT PRIMARY KEY,
        doc        TEXT NOT NULL,
        fetched_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'hardening',
    sql: `
      -- server bans (UBAN): a nick!user@host mask, an IP or a CIDR; expires_at NULL = permanent
      CREATE TABLE server_bans (
        target     TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('mask', 'ip', 'cidr')),
        reason     TEXT NOT NULL,
        set_by     TEXT NOT NULL,
        set_at     INTEGER NOT NULL,
        expires_at INTEGER
      ) STRICT;
      -- small facts about the database itself, e.g. the encryption key check value
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
      -- every message-signing public key this server has used, so old signatures still verify
      CREATE TABLE signing_keys (
        kid        TEXT PRIMARY KEY,
        public_key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retired_at INTEGER
      ) STRICT;
      -- user API tokens: only a SHA-256 of the token is stored
      CREATE TABLE api_tokens (
        token_hash TEXT PRIMARY KEY,
        did        TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX api_tokens_did ON api_tokens (did);
    `,
  },
  {
    version: 4,
    name: 'history',
    sql: `
      -- message history (history/store.ts): every delivered PRIVMSG / NOTICE (and whitelisted TAGMSG).
      -- body, tags and lines are encrypted (storage/crypto.ts, AAD messages.<column>:<msgid>);
      -- id orders messages that share a millisecond
      CREATE TABLE messages (
        id      INTEGER PRIMARY KEY,
        msgid   TEXT NOT NULL UNIQUE,
        venue   TEXT NOT NULL,
        time    INTEGER NOT NULL,
        command TEXT NOT NULL CHECK (command IN ('PRIVMSG', 'NOTICE', 'TAGMSG')),
        source  TEXT NOT NULL,
        account TEXT,
        target  TEXT NOT NULL,
        body    TEXT,
        tags    TEXT,
        lines   TEXT
      ) STRICT;
      CREATE INDEX messages_venue_time ON messages (venue, time, id);
      CREATE INDEX messages_time ON messages (time);
      -- draft/read-marker: per account and target (folded channel name, or the other account's DID)
      CREATE TABLE read_markers (
        account TEXT NOT NULL,
        target  TEXT NOT NULL,
        time    INTEGER NOT NULL,
        PRIMARY KEY (account, target)
      ) STRICT;
    `,
  },
];
