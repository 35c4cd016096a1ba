-- Two people for dangerous changes (issue 11, item 6): a dangerous change
-- is recorded as a proposal and applied when enough other people with the
-- required role approve it; approvals and rejections are votes.
CREATE TABLE proposals (
    id BIGSERIAL PRIMARY KEY,
    action TEXT NOT NULL,
    summary TEXT NOT NULL,
    payload TEXT NOT NULL,
    required_roles TEXT NOT NULL,
    approvals_required INTEGER NOT NULL,
    proposed_by TEXT NOT NULL,
    proposed_by_label TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    decided_at BIGINT,
    outcome TEXT
);
CREATE INDEX proposals_status ON proposals (status, id);
CREATE TABLE proposal_votes (
    proposal_id BIGINT NOT NULL REFERENCES proposals (id),
    voter TEXT NOT NULL,
    voter_label TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (proposal_id, voter)
);
