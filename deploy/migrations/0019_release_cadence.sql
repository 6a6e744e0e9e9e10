-- 0019: releases with a cadence (issue 15). ncap-publishd coalesces: an audit gets at most one
-- round of new provisional revisions every --interval seconds, at once on `ncap release now`, and
-- prunes each period's provisional revisions beyond the last --keep (rows and files). A release
-- whose status is not 'provisional' (a final release) is never pruned.

-- `ncap release now [--audit A]` (run as the administrator) asks for a round at once: publish takes
-- the rows (audit NULL: every audit) in the transaction of the round that honours them.
CREATE TABLE publish.release_request (
  request_id   bigserial PRIMARY KEY,
  audit        text,
  requested_at timestamptz NOT NULL DEFAULT now()
);

-- The last round of an audit is the newest provisional release's created_at.
CREATE INDEX release_audit_created_idx ON publish.release (audit, created_at);

GRANT SELECT, DELETE ON publish.release_request TO ncap_publish;
-- pruning: a provisional revision's rows, files and release row
GRANT DELETE ON publish.release, publish.output, publish.release_file TO ncap_publish;
