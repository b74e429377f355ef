-- The statistics imports (I5, I6, I9): previous sessions kept as history, the enrolment date
-- of I6, external training records, and the login lookup of the import chunks.

-- I5/I6 "create a new session when a status exists": the record the import replaced, as it
-- was. The current session stays in lesson_progress / course_progress.
CREATE TABLE lesson_progress_sessions (
  user_id uuid NOT NULL,
  lesson_id uuid NOT NULL,
  course_id uuid NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  score integer,
  status_date timestamptz,
  time_spent_seconds integer NOT NULL,
  present boolean,
  replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lesson_progress_sessions_idx ON lesson_progress_sessions (user_id, lesson_id, replaced_at);

CREATE TABLE course_progress_sessions (
  user_id uuid NOT NULL,
  course_id uuid NOT NULL,
  status text NOT NULL,
  status_date timestamptz,
  enrolment_date date,
  time_spent_seconds integer NOT NULL,
  replaced_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX course_progress_sessions_idx ON course_progress_sessions (user_id, course_id, replaced_at);

-- I6's course_enrollement_date.
ALTER TABLE course_progress ADD COLUMN enrolment_date date;

-- I9: training followed outside the catalogue, per user. A record is known by its learner,
-- its course (the unique id when the file gives one, else the name) and its start date.
CREATE TABLE external_trainings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  course_name text NOT NULL,
  course_code text NOT NULL,
  passport_type text NOT NULL,
  start_date date NOT NULL,
  end_date date NOT NULL,
  provider text NOT NULL,
  duration text NOT NULL,
  modality text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  record_key text GENERATED ALWAYS AS (lower(CASE WHEN course_code <> '' THEN course_code ELSE course_name END)) STORED
);
CREATE UNIQUE INDEX external_trainings_key ON external_trainings (user_id, record_key, start_date);

-- The import chunks find their learners by login (identity's logins are unique case-insensitively).
CREATE INDEX users_login_idx ON users (lower(login)) WHERE NOT deleted;
-- And courses and lessons by their codes.
CREATE INDEX courses_code_idx ON courses (lower(code)) WHERE NOT deleted;
