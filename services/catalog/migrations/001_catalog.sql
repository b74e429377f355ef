-- Catalog: folders (course and curriculum trees), categories, competencies, courses and
-- their lessons, curricula and their ordered courses.
-- Text fields are NOT NULL with '' for "none". Codes (unique ids) and names that must be
-- unique are unique whatever their case. Audiences are identity's: their ids are kept here
-- (sorted, each once) and checked with identity when they are given.

CREATE TABLE folders (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('course', 'curriculum')),
  name text NOT NULL,
  parent_id uuid REFERENCES folders (id),
  -- '/<top id>/.../<own id>/': the sub-tree of f is every folder whose path starts with f.path.
  path text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX folders_sibling_name_key
  ON folders (kind, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name));
CREATE INDEX folders_path_idx ON folders (path text_pattern_ops);

CREATE TABLE categories (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX categories_name_key ON categories (lower(name));

CREATE TABLE competencies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code text NOT NULL,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX competencies_code_key ON competencies (lower(code));

CREATE TABLE courses (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code text NOT NULL,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  disabled boolean NOT NULL DEFAULT false,
  audience_ids uuid[] NOT NULL DEFAULT '{}',
  certificate_template_id text NOT NULL DEFAULT '',
  external_training boolean NOT NULL DEFAULT false,
  provider text NOT NULL DEFAULT '',
  modality text NOT NULL DEFAULT '',
  free_text1 text NOT NULL DEFAULT '',
  free_text2 text NOT NULL DEFAULT '',
  custom1 text NOT NULL DEFAULT '',
  custom2 text NOT NULL DEFAULT '',
  custom3 text NOT NULL DEFAULT '',
  custom4 text NOT NULL DEFAULT '',
  custom5 text NOT NULL DEFAULT '',
  custom6 text NOT NULL DEFAULT '',
  custom7 text NOT NULL DEFAULT '',
  custom8 text NOT NULL DEFAULT '',
  custom9 text NOT NULL DEFAULT '',
  custom10 text NOT NULL DEFAULT '',
  folder_id uuid REFERENCES folders (id),
  category_id uuid REFERENCES categories (id) ON DELETE SET NULL,
  -- C3: settings and options.
  self_enrolment boolean NOT NULL DEFAULT false,
  self_unenrolment boolean NOT NULL DEFAULT false,
  learner_may_clear_stats boolean NOT NULL DEFAULT false,
  learner_may_recompute_status boolean NOT NULL DEFAULT false,
  sequential_lessons boolean NOT NULL DEFAULT false,
  prerequisites boolean NOT NULL DEFAULT true,
  course_type text NOT NULL DEFAULT 'aicc_scorm' CHECK (course_type IN ('aicc_scorm', 'aicc_only', 'instructor_led')),
  protocol text NOT NULL DEFAULT 'scorm_api' CHECK (protocol IN ('aicc_hacp', 'scorm_api')),
  review_mode text NOT NULL DEFAULT 'allowed' CHECK (review_mode IN ('allowed', 'not_allowed', 'suspend')),
  browse_mode text NOT NULL DEFAULT 'allowed' CHECK (browse_mode IN ('allowed', 'not_allowed', 'suspend')),
  window_width integer NOT NULL DEFAULT 1024 CHECK (window_width > 0),
  window_height integer NOT NULL DEFAULT 768 CHECK (window_height > 0),
  full_screen boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Sequential lessons and prerequisites: never both yes, never both no.
  CONSTRAINT courses_sequential_or_prerequisites CHECK (sequential_lessons <> prerequisites)
);
CREATE UNIQUE INDEX courses_code_key ON courses (lower(code));
CREATE INDEX courses_name_idx ON courses (name, id);
CREATE INDEX courses_folder_idx ON courses (folder_id);
CREATE INDEX courses_category_idx ON courses (category_id);

CREATE TABLE lessons (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
  code text NOT NULL,
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('A', 'L', 'W', 'T', 'E')),
  position integer NOT NULL CHECK (position > 0),
  optional boolean NOT NULL DEFAULT false,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  -- Deferred: moving a lesson shifts the others within one statement.
  CONSTRAINT lessons_position_key UNIQUE (course_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE UNIQUE INDEX lessons_code_key ON lessons (lower(code));

CREATE TABLE curricula (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code text NOT NULL,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  disabled boolean NOT NULL DEFAULT false,
  audience_ids uuid[] NOT NULL DEFAULT '{}',
  free_text1 text NOT NULL DEFAULT '',
  free_text2 text NOT NULL DEFAULT '',
  custom1 text NOT NULL DEFAULT '',
  custom2 text NOT NULL DEFAULT '',
  custom3 text NOT NULL DEFAULT '',
  custom4 text NOT NULL DEFAULT '',
  custom5 text NOT NULL DEFAULT '',
  custom6 text NOT NULL DEFAULT '',
  custom7 text NOT NULL DEFAULT '',
  custom8 text NOT NULL DEFAULT '',
  custom9 text NOT NULL DEFAULT '',
  custom10 text NOT NULL DEFAULT '',
  folder_id uuid REFERENCES folders (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX curricula_code_key ON curricula (lower(code));
CREATE INDEX curricula_name_idx ON curricula (name, id);
CREATE INDEX curricula_folder_idx ON curricula (folder_id);

-- A curriculum's courses, in order. A course in a curriculum cannot be deleted.
CREATE TABLE curriculum_courses (
  curriculum_id uuid NOT NULL REFERENCES curricula (id) ON DELETE CASCADE,
  course_id uuid NOT NULL REFERENCES courses (id),
  position integer NOT NULL CHECK (position > 0),
  PRIMARY KEY (curriculum_id, course_id),
  CONSTRAINT curriculum_courses_position_key UNIQUE (curriculum_id, position) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX curriculum_courses_course_idx ON curriculum_courses (course_id);
