-- Requests, each owned by the API key that created it.
CREATE TABLE requests (
    id           INTEGER PRIMARY KEY,
    owner        TEXT    NOT NULL,
    request_id   TEXT    NOT NULL,
    body_hash    TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    callback_url TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    cancelled_at INTEGER,
    UNIQUE (owner, request_id)
);

-- Destinations, FIFO by idx within a request.
CREATE TABLE destinations (
    id              INTEGER PRIMARY KEY,
    request_pk      INTEGER NOT NULL REFERENCES requests (id),
    idx             INTEGER NOT NULL,
    phone           TEXT    NOT NULL,
    caller          TEXT    NOT NULL DEFAULT '',
    properties      TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL,
    call_state      TEXT    NOT NULL,
    call_status     TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    refusals        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL DEFAULT 0,
    queued_at       INTEGER NOT NULL,
    last_attempt_pk INTEGER,
    event_seq       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (request_pk, idx)
);
CREATE INDEX destinations_queued ON destinations (request_pk, idx) WHERE status = 'queued';

-- Attempts: one per dial.
CREATE TABLE attempts (
    id             INTEGER PRIMARY KEY,
    dest_pk        INTEGER NOT NULL REFERENCES destinations (id),
    n              INTEGER NOT NULL,
    call_id        TEXT    NOT NULL UNIQUE,
    state          TEXT    NOT NULL,
    outcome        TEXT    NOT NULL DEFAULT '',
    sip_code       INTEGER NOT NULL DEFAULT 0,
    hangup_cause   TEXT    NOT NULL DEFAULT '',
    hangup_by      TEXT    NOT NULL DEFAULT '',
    dialed_at      INTEGER NOT NULL,
    ringing_at     INTEGER,
    answered_at    INTEGER,
    ended_at       INTEGER,
    recording_path TEXT    NOT NULL DEFAULT '',
    recording_size INTEGER NOT NULL DEFAULT 0,
    recording_sha  TEXT    NOT NULL DEFAULT '',
    monitors       TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (dest_pk, n)
);
CREATE INDEX attempts_live ON attempts (id) WHERE ended_at IS NULL;

-- Step results in run order (by id) per attempt.
CREATE TABLE step_results (
    id         INTEGER PRIMARY KEY,
    attempt_pk INTEGER NOT NULL REFERENCES attempts (id),
    step_name  TEXT    NOT NULL,
    step_path  TEXT    NOT NULL,
    info       TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX step_results_attempt ON step_results (attempt_pk, id);

-- Events: the webhook outbox, sequenced per destination.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT    NOT NULL UNIQUE,
    dest_pk      INTEGER NOT NULL REFERENCES destinations (id),
    seq          INTEGER NOT NULL,
    type         TEXT    NOT NULL,
    owner        TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    state        TEXT    NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_try_at  INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    delivered_at INTEGER,
    UNIQUE (dest_pk, seq)
);
CREATE INDEX events_pending ON events (dest_pk, seq) WHERE state = 'pending';
