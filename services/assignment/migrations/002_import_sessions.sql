-- I3 (course-assignment import) gives an external session id and a session enrolment
-- status per assignment. Instructor-led sessions come later: until then they are kept as the
-- file gives them ('' for none), and nothing here interprets them.
ALTER TABLE course_assignments
  ADD COLUMN external_session_id text NOT NULL DEFAULT '',
  ADD COLUMN session_enrolment_status text NOT NULL DEFAULT '';
