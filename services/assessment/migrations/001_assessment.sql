-- Assessment: tests (épreuves) with their blocks and questions, users' attempts with a copy
-- of each question as it was played and the answer given, and the audit of score edits (T1).
-- Users, organisations, courses and lessons are referred to by id without foreign keys (each
-- service owns its data).

CREATE TABLE tests (
  id uuid PRIMARY KEY,
  external_id text NOT NULL,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  organisation_id uuid NOT NULL,
  -- The organisation and its ancestors (root first) as identity gave them when the test was
  -- placed there: a grant on any of them covers the test.
  organisation_path uuid[] NOT NULL,
  -- The lesson of a course that plays the test (both or neither).
  course_id uuid,
  lesson_id uuid,
  passing_score_percent numeric(5, 2) CHECK (passing_score_percent BETWEEN 0 AND 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((course_id IS NULL) = (lesson_id IS NULL))
);
CREATE UNIQUE INDEX tests_external_id_key ON tests (lower(external_id));
CREATE INDEX tests_path_idx ON tests USING gin (organisation_path);
CREATE INDEX tests_lesson_idx ON tests (lesson_id);

CREATE TABLE test_blocks (
  id uuid PRIMARY KEY,
  test_id uuid NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
  position integer NOT NULL,
  title text NOT NULL,
  UNIQUE (test_id, position)
);

-- choices, expected: JSON whose shape depends on the type (src/questions.ts).
CREATE TABLE questions (
  id uuid PRIMARY KEY,
  block_id uuid NOT NULL REFERENCES test_blocks (id) ON DELETE CASCADE,
  test_id uuid NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
  position integer NOT NULL,
  type text NOT NULL CHECK (type IN ('single_choice', 'multiple_choice', 'true_false', 'matching', 'ordering', 'fill_in', 'numeric', 'free_text')),
  title text NOT NULL,
  text text NOT NULL DEFAULT '',
  media jsonb NOT NULL DEFAULT '[]',
  choices jsonb,
  expected jsonb,
  max_score numeric(10, 2) NOT NULL CHECK (max_score >= 0),
  UNIQUE (block_id, position)
);
CREATE INDEX questions_test_idx ON questions (test_id);

CREATE TABLE attempts (
  id uuid PRIMARY KEY,
  test_id uuid NOT NULL REFERENCES tests (id),
  user_id uuid NOT NULL,
  started_at timestamptz NOT NULL,
  duration_seconds integer NOT NULL CHECK (duration_seconds >= 0),
  score numeric(10, 2) NOT NULL,
  max_score numeric(10, 2) NOT NULL,
  score_percent numeric(5, 2) NOT NULL,
  status text NOT NULL CHECK (status IN ('passed', 'failed', 'completed', 'incomplete')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempts_test_user_idx ON attempts (test_id, user_id, started_at DESC);

-- One row per question of the attempt: the question as played (a later change of the test
-- does not rewrite history) and the answer given, which nothing changes afterwards.
CREATE TABLE attempt_answers (
  attempt_id uuid NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
  question_id uuid NOT NULL,
  block_id uuid NOT NULL,
  block_title text NOT NULL,
  position integer NOT NULL,
  type text NOT NULL,
  title text NOT NULL,
  text text NOT NULL,
  choices jsonb,
  expected jsonb,
  max_score numeric(10, 2) NOT NULL,
  given jsonb,
  score numeric(10, 2) NOT NULL CHECK (score >= 0 AND score <= max_score),
  duration_seconds integer NOT NULL CHECK (duration_seconds >= 0),
  PRIMARY KEY (attempt_id, question_id)
);

-- T1: every score changed, by whom and when. Kept after the attempt is deleted (T2).
CREATE TABLE score_edits (
  id bigserial PRIMARY KEY,
  attempt_id uuid NOT NULL,
  test_id uuid NOT NULL,
  user_id uuid NOT NULL,
  question_id uuid NOT NULL,
  old_score numeric(10, 2) NOT NULL,
  new_score numeric(10, 2) NOT NULL,
  edited_by uuid NOT NULL,
  edited_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX score_edits_attempt_idx ON score_edits (attempt_id);
