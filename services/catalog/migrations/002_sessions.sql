-- Instructor-led sessions of a course (I8) and the sessions of its lessons. A session is
-- named by its external id, unique within its course whatever its case. Date-times are wall
-- clock times as the files give them (no time zone). Users (trainers, manager) and
-- organisations are identity's: their ids are kept here, checked with identity when a
-- session is imported.

CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
  external_id text NOT NULL,
  starts_at timestamp NOT NULL,
  -- N in preparation, O open, C closed, D closed, X cancelled.
  status text NOT NULL DEFAULT 'N' CHECK (status IN ('N', 'O', 'C', 'D', 'X')),
  max_participants integer NOT NULL CHECK (max_participants > 0),
  immediate_confirmation boolean NOT NULL DEFAULT false,
  waiting_list boolean NOT NULL DEFAULT false,
  main_trainer_id uuid NOT NULL,
  -- The other trainers, in the file's order, each once.
  trainer_ids uuid[] NOT NULL DEFAULT '{}',
  -- A room or virtual room of another system: kept as given.
  room_ext_id text NOT NULL DEFAULT '',
  manager_id uuid,
  -- The session's audience: sorted, each once.
  organisation_ids uuid[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sessions_course_external_id_key ON sessions (course_id, lower(external_id));

CREATE TABLE lesson_sessions (
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  lesson_id uuid NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
  -- 1..n: the order of the file.
  position integer NOT NULL,
  starts_at timestamp NOT NULL,
  ends_at timestamp NOT NULL,
  PRIMARY KEY (session_id, position),
  CONSTRAINT lesson_sessions_end_after_start CHECK (ends_at > starts_at)
);
CREATE INDEX lesson_sessions_lesson_idx ON lesson_sessions (lesson_id);
