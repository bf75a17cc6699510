/**
 * Numbered migrations, applied in order inside one transaction each; the schema version lives in
 * PRAGMA user_version. Never edit a released migration: add the next number.
 * (Kept as TypeScript strings so they ship inside dist/ with no copy step.)
 *
 * #16: a statement that rewrites every row of a table (an UPDATE of all rows, a table copy) goes
 * in `rewrite`, with `:lo` / `:hi` rowid bounds: storage/db.ts runs it in batches of rowids, in
 * the same transaction, and reports progress between them (rows done / total, rate, time left).
 * Splitting a released migration's statement this way changes nothing it does, only that
 * progress is shown.
 */
export interface Migration {
  version: number;
  name: string;
  /** run first */
  sql: string;
  /** then these, each over every row of its table, in batches (`WHERE rowid > :lo AND rowid <= :hi`) */
  rewrite?: readonly RowRewrite[];
  /** then this */
  finish?: string;
}

/**
 * Statements over every row of `table`, run batch by batch (each batch: every statement, in
 * order); their WHERE clauses take the batch's rowid bounds `:lo` (exclusive) and `:hi` (inclusive).
 */
export interface RowRewrite { table: string; statements: readonly string[] }

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
  {
    version: 5,
    name: 'history-visibility-and-size',
    sql: `
      -- #12: vis = the channel's restricting modes when the message was said (1 +s, 2 +p, 4 +i,
      -- 8 +k; 0 public), so history said while secret or keyed never becomes public later.
      -- size = the row's stored bytes (storage/repos/messages.ts ROW_OVERHEAD), summed in meta
      -- history_bytes for history-max-bytes.
      ALTER TABLE messages ADD COLUMN vis INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
    `,
    rewrite: [{
      table: 'messages',
      statements: [
        // older rows: nothing recorded their moment, so they take the channel's modes as persisted
        // now (restricted now → restricted); a channel that was never persisted had default modes
        `UPDATE messages SET vis = (
            SELECT (CASE WHEN instr(c.modes, 's') > 0 THEN 1 ELSE 0 END) | (CASE WHEN instr(c.modes, 'p') > 0 THEN 2 ELSE 0 END)
                 | (CASE WHEN instr(c.modes, 'i') > 0 THEN 4 ELSE 0 END) | (CASE WHEN c.chan_key IS NOT NULL THEN 8 ELSE 0 END)
            FROM channels c WHERE c.name_folded = messages.venue)
          WHERE venue IN (SELECT name_folded FROM channels) AND rowid > :lo AND rowid <= :hi`,
        `UPDATE messages SET size = 16 + length(CAST(msgid AS BLOB)) + length(CAST(venue AS BLOB)) + length(CAST(command AS BLOB))
            + length(CAST(source AS BLOB)) + COALESCE(length(CAST(account AS BLOB)), 0) + length(CAST(target AS BLOB))
            + COALESCE(length(CAST(body AS BLOB)), 0) + COALESCE(length(CAST(tags AS BLOB)), 0) + COALESCE(length(CAST(lines AS BLOB)), 0)
          WHERE rowid > :lo AND rowid <= :hi`,
      ],
    }],
    finish: `
      INSERT OR REPLACE INTO meta (key, value) SELECT 'history_bytes', CAST(COALESCE(SUM(size), 0) AS TEXT) FROM messages;
    `,
  },
  {
    version: 6,
    name: 'channel-expiry',
    sql: `
      -- #12 finding 8: when a channel without a founder was left empty; it is dropped
      -- channel-expiry later (NULL while it has members)
      ALTER TABLE channels ADD COLUMN empty_since INTEGER;
    `,
  },
  {
    version: 7,
    name: 'unverified-handles',
    sql: `
      -- #12 finding 5: handles stored before this version came from the DID document unchecked
      -- (a did:web could claim anyone's). Only handles that resolve back to the DID are stored
      -- now; the old ones are dropped and each account's handle returns, verified, at its next login.
    `,
    rewrite: [{ table: 'accounts', statements: ['UPDATE accounts SET handle = NULL WHERE rowid > :lo AND rowid <= :hi'] }],
  },
  {
    version: 8,
    name: 'channel-stamps',
    sql: `
      -- #13 (federation.md "State convergence"): the HLC stamp and origin of the last change of
      -- each durable channel register, for the CRDT merge (state/hlc.ts Stamp). <x>_hlc is the
      -- encoded stamp (13 digits of ms, '.', 6 digits of logical counter: string order is time
      -- order), <x>_origin the peer id (64 hex) of the server that made the change. Both NULL =
      -- not stamped: rows from before this version, and registers nobody changed since. The
      -- channel registers are topic, modes (the flags i m n p s t), key, limit and founder; each
      -- +b/+e/+I entry, DID op and DID invite carries the stamp of the change that added it.
      -- Plaintext on purpose: stamps are ordering metadata, not user content (storage/crypto.ts
      -- encrypts only topic and chan_key here). A malformed stored stamp reads back as absent
      -- (storage/repos/channels.ts).
      ALTER TABLE channels ADD COLUMN topic_hlc TEXT;
      ALTER TABLE channels ADD COLUMN topic_origin TEXT;
      ALTER TABLE channels ADD COLUMN modes_hlc TEXT;
      ALTER TABLE channels ADD COLUMN modes_origin TEXT;
      ALTER TABLE channels ADD COLUMN key_hlc TEXT;
      ALTER TABLE channels ADD COLUMN key_origin TEXT;
      ALTER TABLE channels ADD COLUMN limit_hlc TEXT;
      ALTER TABLE channels ADD COLUMN limit_origin TEXT;
      ALTER TABLE channels ADD COLUMN founder_hlc TEXT;
      ALTER TABLE channels ADD COLUMN founder_origin TEXT;
      ALTER TABLE channel_lists ADD COLUMN hlc TEXT;
      ALTER TABLE channel_lists ADD COLUMN origin TEXT;
      ALTER TABLE channel_did_ops ADD COLUMN hlc TEXT;
      ALTER TABLE channel_did_ops ADD COLUMN origin TEXT;
      ALTER TABLE channel_did_invites ADD COLUMN hlc TEXT;
      ALTER TABLE channel_did_invites ADD COLUMN origin TEXT;
    `,
  },
  {
    version: 9,
    name: 'channel-list-stamps',
    sql: `
      -- #14 (docs/federation.md "How channel state converges"): the ban, exception and invite
      -- lists and the set of DID ops converge as whole registers, last writer wins: the stamp of
      -- the last change (an entry added or removed) of each, as for the registers of version 8.
      ALTER TABLE channels ADD COLUMN bans_hlc TEXT;
      ALTER TABLE channels ADD COLUMN bans_origin TEXT;
      ALTER TABLE channels ADD COLUMN excepts_hlc TEXT;
      ALTER TABLE channels ADD COLUMN excepts_origin TEXT;
      ALTER TABLE channels ADD COLUMN invex_hlc TEXT;
      ALTER TABLE channels ADD COLUMN invex_origin TEXT;
      ALTER TABLE channels ADD COLUMN didops_hlc TEXT;
      ALTER TABLE channels ADD COLUMN didops_origin TEXT;
    `,
  },
  {
    version: 10,
    name: 's2s-audit',
    sql: `
      -- #14 (docs/federation.md "Audit log"): every federated envelope whose signature verified,
      -- applied or refused, with the whole envelope as received (signature included), so an
      -- action can later be proven to come from its origin server. ref is the row's key (and the
      -- encryption AAD of envelope, which holds what users wrote: encrypted like messages.body).
      -- Bounded by s2s-audit-max-rows (the oldest rows go first).
      CREATE TABLE s2s_audit (
        ref TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL,
        via TEXT NOT NULL,
        origin TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hlc TEXT NOT NULL,
        kind TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT,
        envelope TEXT NOT NULL
      );
      CREATE INDEX s2s_audit_origin ON s2s_audit (origin, seq);
    `,
  },
  {
    version: 11,
    name: 'nick-claims',
    sql: `
      -- #14 (docs/federation.md "Nick ownership"): when a DID claimed its nick (an HLC stamp), so
      -- that servers that each gave the same nick to a different DID during a split agree once
      -- linked: the earlier claim keeps it. NULL: claimed before this version (the earliest).
      ALTER TABLE accounts ADD COLUMN nick_claimed TEXT;
    `,
  },
  {
    version: 12,
    name: 'channel-list-tombstones',
    sql: `
      -- #14 (docs/federation.md "How channel state converges"): the +b/+e/+I lists converge entry
      -- by entry. An entry removed is kept here with the stamp of its removal, so that a removal
      -- made on one side of a split wins over the older addition the other side still has (and a
      -- later addition wins over it). At most 1000 per list (state/channel.ts MAX_TOMBSTONES).
      CREATE TABLE channel_list_removed (
        channel TEXT NOT NULL REFERENCES channels(name_folded) ON DELETE CASCADE,
        mode    TEXT NOT NULL CHECK (mode IN ('b', 'e', 'I')),
        mask    TEXT NOT NULL,
        hlc     TEXT NOT NULL,
        origin  TEXT NOT NULL,
        PRIMARY KEY (channel, mode, mask)
      ) STRICT;
    `,
  },
  {
    version: 13,
    name: 'web-sessions',
    sql: `
      -- #15 (docs/identity.md "Bluesky login in the web client"): a browser that logged in with
      -- Bluesky stays logged in for web-session-ttl through an HttpOnly cookie; only the cookie's
      -- SHA-256 is kept. It can do one thing: get a single-use IRC login token (POST /auth/token).
      CREATE TABLE web_sessions (
        token_hash TEXT PRIMARY KEY,
        did        TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX web_sessions_did ON web_sessions (did);
    `,
  },
  {
    version: 14,
    name: 'message-redaction',
    sql: `
      -- #16 (draft/message-redaction, state/redact-ops.ts): a REDACT is a row of its own (command
      -- REDACT, its own msgid, redacts = the msgid it redacted, body = the reason, encrypted like
      -- any body), and the redacted message stays as a row without content (body, tags and lines
      -- NULL, redacted = 1) so CHATHISTORY references to it still find their place. uid is the
      -- sender's network-wide id (state/ids.ts): a guest may redact what it said on this connection.
      -- SQLite cannot change a CHECK constraint in place: the table is rebuilt (ids, and so the
      -- order of rows within a millisecond, are kept).
      CREATE TABLE messages_v14 (
        id       INTEGER PRIMARY KEY,
        msgid    TEXT NOT NULL UNIQUE,
        venue    TEXT NOT NULL,
        time     INTEGER NOT NULL,
        command  TEXT NOT NULL CHECK (command IN ('PRIVMSG', 'NOTICE', 'TAGMSG', 'REDACT')),
        source   TEXT NOT NULL,
        account  TEXT,
        target   TEXT NOT NULL,
        body     TEXT,
        tags     TEXT,
        lines    TEXT,
        vis      INTEGER NOT NULL DEFAULT 0,
        size     INTEGER NOT NULL DEFAULT 0,
        uid      TEXT,
        redacts  TEXT,
        redacted INTEGER NOT NULL DEFAULT 0
      ) STRICT;
    `,
    // #16: the copy of every row, in batches with progress (storage/db.ts)
    rewrite: [{
      table: 'messages',
      statements: [`INSERT INTO messages_v14 (id, msgid, venue, time, command, source, account, target, body, tags, lines, vis, size)
        SELECT id, msgid, venue, time, command, source, account, target, body, tags, lines, vis, size FROM messages
        WHERE rowid > :lo AND rowid <= :hi`],
    }],
    finish: `
      DROP TABLE messages;
      ALTER TABLE messages_v14 RENAME TO messages;
      CREATE INDEX messages_venue_time ON messages (venue, time, id);
      CREATE INDEX messages_time ON messages (time);
    `,
  },
];
