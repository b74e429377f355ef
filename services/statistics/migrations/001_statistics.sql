-- Statistics: learners' progress on lessons, courses and curricula, competency scores, and
-- the projections it keeps from other services' events (course structure and curricula from
-- CATALOG, assignments from ASSIGNMENT). Users, courses and curricula are referred to by id
-- without foreign keys (each service owns its data). Statuses are lower-case words.

-- Projection of catalog.course.* (the course with its lessons) and catalog.curriculum.*.
-- `version` is the catalog's updated_at: an older copy never overwrites a newer one (events
-- and the catalog's GetCourses answer may arrive in any order).
CREATE TABLE courses (
  id uuid PRIMARY KEY,
  code text NOT NULL,
  name text NOT NULL,
  external_training boolean NOT NULL DEFAULT false,
  deleted boolean NOT NULL DEFAULT false,
  version timestamptz NOT NULL
);

CREATE TABLE lessons (
  id uuid PRIMARY KEY,
  course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
  code text NOT NULL,
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('A', 'L', 'W', 'T', 'E')),
  position integer NOT NULL,
  optional boolean NOT NULL
);
CREATE INDEX lessons_course_idx ON lessons (course_id, position);

CREATE TABLE curricula (
  id uuid PRIMARY KEY,
  code text NOT NULL,
  name text NOT NULL,
  course_ids uuid[] NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  version timestamptz NOT NULL
);
CREATE INDEX curricula_courses_idx ON curricula USING gin (course_ids);

-- Projection of assignment.course.* and assignment.curriculum.*: a removed assignment is
-- kept as history (removed_at) and not shown. The dates and option are for the export.
CREATE TABLE course_assignments (
  user_id uuid NOT NULL,
  course_id uuid NOT NULL,
  start_date date,
  objective_date date,
  end_date date,
  option text NOT NULL,
  assigned_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  removed_at timestamptz,
  PRIMARY KEY (user_id, course_id)
);
CREATE INDEX course_assignments_course_idx ON course_assignments (course_id, user_id);

CREATE TABLE curriculum_assignments (
  user_id uuid NOT NULL,
  curriculum_id uuid NOT NULL,
  start_date date,
  objective_date date,
  end_date date,
  option text NOT NULL,
  assigned_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  removed_at timestamptz,
  PRIMARY KEY (user_id, curriculum_id)
);
CREATE INDEX curriculum_assignments_curriculum_idx ON curriculum_assignments (curriculum_id, user_id);

CREATE TABLE lesson_progress (
  user_id uuid NOT NULL,
  lesson_id uuid NOT NULL,
  course_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('not_started', 'browsed', 'failed', 'incomplete', 'passed', 'completed')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  score integer CHECK (score BETWEEN 0 AND 100),
  status_date timestamptz,
  time_spent_seconds integer NOT NULL DEFAULT 0 CHECK (time_spent_seconds >= 0),
  -- Instructor-led lessons: present or not; null when not recorded.
  present boolean,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, lesson_id)
);
CREATE INDEX lesson_progress_course_idx ON lesson_progress (user_id, course_id);

-- Follows from lesson_progress (rules.ts); a new assignment starts a not_started row.
CREATE TABLE course_progress (
  user_id uuid NOT NULL,
  course_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('not_started', 'browsed', 'failed', 'incomplete', 'passed', 'completed')),
  status_date timestamptz,
  time_spent_seconds integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, course_id)
);
CREATE INDEX course_progress_course_idx ON course_progress (course_id, user_id);

-- Follows from course_progress of the curriculum's courses.
CREATE TABLE curriculum_progress (
  user_id uuid NOT NULL,
  curriculum_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('not_started', 'browsed', 'failed', 'incomplete', 'passed', 'completed')),
  status_date timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, curriculum_id)
);

-- U20: a score 0-100, or null for "not evaluated".
CREATE TABLE competency_scores (
  user_id uuid NOT NULL,
  competency_id uuid NOT NULL,
  score integer CHECK (score BETWEEN 0 AND 100),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, competency_id)
);
