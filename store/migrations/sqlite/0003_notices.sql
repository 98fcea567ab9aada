-- Public notices (党务公开 / 居务公开 …): written by a community's lead, read by
-- residents without an account. Only `published` rows are ever shown publicly;
-- drafts and withdrawn notices answer 404 on the public routes.
CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    community_id TEXT NOT NULL REFERENCES communities (id),
    category     TEXT NOT NULL CHECK (category IN ('party', 'affairs', 'finance', 'guide', 'event')),
    title        TEXT NOT NULL,
    -- The source as written: a safe Markdown subset, rendered (and sanitised)
    -- when shown, so a fix to the renderer applies to old notices too.
    body         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'withdrawn')),
    pinned       INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    published_at INTEGER,
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX notices_public ON notices (community_id, status, pinned, published_at);

-- Every saved version and every status change, for the edit history.
CREATE TABLE notice_revisions (
    id        TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL REFERENCES notices (id),
    action    TEXT NOT NULL CHECK (action IN ('create', 'edit', 'publish', 'withdraw', 'pin', 'unpin')),
    title     TEXT NOT NULL,
    body      TEXT NOT NULL,
    category  TEXT NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users (id),
    at        INTEGER NOT NULL
);
CREATE INDEX notice_revisions_notice ON notice_revisions (notice_id, at);
