-- Assignment: course and curriculum assignments, certificates, tutors, access properties
-- and the visibility they give. Users, courses, curricula and lists live in identity and
-- catalog: their ids are kept here without foreign keys (each service owns its data).
-- Options and payment modes are stored as lower-case words; '' for "no payment mode".

CREATE TABLE course_assignments (
  user_id uuid NOT NULL,
  course_id uuid NOT NULL,
  start_date date,
  objective_date date,
  end_date date,
  option text NOT NULL CHECK (option IN ('free', 'recommended', 'mandatory')),
  payment_mode text NOT NULL DEFAULT '' CHECK (payment_mode IN ('', 'by_course', 'by_hour', 'not_billed', 'prepaid_account')),
  payment_code text NOT NULL DEFAULT '',
  unit_cost numeric(14, 2) CHECK (unit_cost >= 0),
  -- Where it comes from, one or several: assigned directly, with curricula, through access
  -- properties. Removing a curriculum "with its courses" removes only the course
  -- assignments that nothing else holds.
  direct boolean NOT NULL,
  via_curricula uuid[] NOT NULL DEFAULT '{}',
  via_access_properties uuid[] NOT NULL DEFAULT '{}',
  assigned_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, course_id),
  CHECK (end_date >= start_date),
  CHECK (objective_date >= start_date AND objective_date <= end_date)
);
-- A course's learners (ListCourseAssignments).
CREATE INDEX course_assignments_course_idx ON course_assignments (course_id, user_id);

CREATE TABLE curriculum_assignments (
  user_id uuid NOT NULL,
  curriculum_id uuid NOT NULL,
  start_date date,
  objective_date date,
  end_date date,
  option text NOT NULL CHECK (option IN ('free', 'recommended', 'mandatory')),
  direct boolean NOT NULL,
  via_access_properties uuid[] NOT NULL DEFAULT '{}',
  assigned_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, curriculum_id),
  CHECK (end_date >= start_date),
  CHECK (objective_date >= start_date AND objective_date <= end_date)
);

CREATE TABLE certificates (
  user_id uuid NOT NULL,
  course_id uuid NOT NULL,
  template_id text NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  reissue_count integer NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, course_id)
);

-- U6: the tutor follows the learners of the list on the course.
CREATE TABLE tutorships (
  tutor_id uuid NOT NULL,
  course_id uuid NOT NULL,
  list_id uuid NOT NULL,
  assigned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tutor_id, course_id, list_id)
);

-- C5, P4: a list gives a course or curriculum visibility and/or enrolment.
CREATE TABLE access_properties (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  object_type text NOT NULL CHECK (object_type IN ('course', 'curriculum')),
  object_id uuid NOT NULL,
  list_id uuid NOT NULL,
  restrict_visibility boolean NOT NULL,
  enrol boolean NOT NULL,
  option text NOT NULL CHECK (option IN ('free', 'recommended', 'mandatory')),
  dates_mode text NOT NULL CHECK (dates_mode IN ('none', 'fixed', 'relative')),
  start_date date,
  objective_date date,
  end_date date,
  start_delay_days integer CHECK (start_delay_days >= 0),
  objective_delay_days integer CHECK (objective_delay_days >= 0),
  end_delay_days integer CHECK (end_delay_days >= 0),
  effective_immediately boolean NOT NULL,
  apply_option_to_courses boolean NOT NULL,
  carry_dates_to_courses boolean NOT NULL,
  created_by uuid NOT NULL,
  -- When the members of the list were read to apply it to those already in it: the entries
  -- into the list from then on are the consumer's (list-enrolment.ts); older ones (a replay
  -- of the stream, a late event) were covered then.
  members_read_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (object_type, object_id, list_id)
);
-- The consumer of list entries reads a list's properties.
CREATE INDEX access_properties_list_idx ON access_properties (list_id);

-- Who sees what a restricting access property restricts: one row per user, object and list
-- the user is in. A restricted object is visible to a user with at least one row for it.
CREATE TABLE visibility (
  user_id uuid NOT NULL,
  object_type text NOT NULL CHECK (object_type IN ('course', 'curriculum')),
  object_id uuid NOT NULL,
  list_id uuid NOT NULL,
  PRIMARY KEY (user_id, object_type, object_id, list_id)
);
CREATE INDEX visibility_list_idx ON visibility (list_id, user_id);
