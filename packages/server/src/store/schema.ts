/**
 * @module schema — the SQLite schema as migration records, applied in order by `migrate()`.
 */
export interface Migration {
  version: number;
  install: string[];
}

export const migrations: Migration[] = [
  {
    version: 1,
    install: [
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        provider TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        options TEXT NOT NULL,
        metadata TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        journal_offset INTEGER NOT NULL DEFAULT 0,
        sandbox TEXT,
        acp_session_id TEXT,
        usage TEXT NOT NULL,
        idle_deadline INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
      `CREATE INDEX sessions_tenant ON sessions (tenant, id DESC)`,
      `CREATE INDEX sessions_status ON sessions (status)`,
      `CREATE TABLE events (
        session_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        turn_id TEXT,
        data TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      ) WITHOUT ROWID`,
      `CREATE TABLE turns (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        status TEXT NOT NULL,
        prompt TEXT NOT NULL,
        stop_reason TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER
      )`,
      `CREATE INDEX turns_session ON turns (session_id, status, id)`,
      `CREATE TABLE interactions (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        turn_id TEXT,
        kind TEXT NOT NULL,
        rpc_id TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        resolution TEXT,
        delivered INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        resolved_at INTEGER
      )`,
      `CREATE INDEX interactions_session ON interactions (session_id, status)`,
      `CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      )`,
    ],
  },
];
