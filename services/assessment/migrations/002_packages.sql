-- T4, LMS publication: course packages (SCORM 1.2, SCORM 2004 4th edition, xAPI) of several
-- tests, kept whole (the zip) with what they were made from. The course they describe is
-- created in the catalogue (course_id); uniqueness of the external id is the catalogue's.

CREATE TABLE packages (
  id uuid PRIMARY KEY,
  format text NOT NULL CHECK (format IN ('scorm12', 'scorm2004', 'xapi')),
  course_name text NOT NULL,
  external_id text NOT NULL,
  author text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  target_server text NOT NULL DEFAULT '',
  -- In order; reading the package needs tests:read on every one of them.
  test_ids uuid[] NOT NULL,
  course_id uuid NOT NULL,
  file_name text NOT NULL,
  zip bytea NOT NULL,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX packages_external_id_idx ON packages (lower(external_id));
