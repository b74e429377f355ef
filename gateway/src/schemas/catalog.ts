import { Type } from '@sinclair/typebox';
import { After, Id, OneOf, PageBody } from './common';

export const COURSE_TYPES = ['aicc_scorm', 'aicc_only', 'instructor_led'] as const;
export const PROTOCOLS = ['aicc_hacp', 'scorm_api'] as const;
export const CMI_MODES = ['allowed', 'not_allowed', 'suspend'] as const;
export const LESSON_TYPES = ['A', 'L', 'W', 'T', 'E'] as const;
export const FOLDER_KINDS = ['course', 'curriculum'] as const;

const Text = (maxLength: number) => Type.String({ maxLength });
const IdOrNone = (description: string) => Type.Union([Id, Type.Literal('')], { description });
const Code = (description: string) => Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S+$', description });
const Pixels = (description: string) => Type.Integer({ minimum: 1, maximum: 10_000, description });
const customFields = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`custom${i + 1}`, Text(255)])) as Record<
  `custom${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10}`,
  ReturnType<typeof Text>
>;
export const CUSTOM_FIELD_NAMES = Object.keys(customFields) as (keyof typeof customFields)[];

// ---- Courses and lessons ---------------------------------------------------------------

/** C3: the settings and options of a course. */
export const settingsFields = {
  selfEnrolment: Type.Boolean({ description: 'learners may enrol themselves' }),
  selfUnenrolment: Type.Boolean({ description: 'learners may unenrol themselves' }),
  learnerMayClearStats: Type.Boolean({ description: 'learners may clear their statistics of the course' }),
  learnerMayRecomputeStatus: Type.Boolean({ description: 'learners may recompute their status in the course' }),
  sequentialLessons: Type.Boolean({ description: 'lessons are followed in order; never the same value as prerequisites' }),
  prerequisites: Type.Boolean({
    description: 'administrators may add prerequisites to lessons and blocks; never the same value as sequentialLessons',
  }),
  courseType: OneOf(COURSE_TYPES, 'AICC-compatible SCORM, AICC only, or instructor-led'),
  protocol: OneOf(PROTOCOLS, 'AICC (HACP) or SCORM (API)'),
  reviewMode: OneOf(CMI_MODES, 'CMI review mode'),
  browseMode: OneOf(CMI_MODES, 'CMI browse mode'),
  windowWidth: Pixels('width of the course window, in pixels'),
  windowHeight: Pixels('height of the course window, in pixels'),
  fullScreen: Type.Boolean({ description: 'the course opens full screen' }),
};

const courseFields = {
  code: Code('the unique id ("crsvname"), whatever its case'),
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Text(4000),
  disabled: Type.Boolean(),
  certificateTemplateId: Text(100),
  externalTraining: Type.Boolean(),
  provider: Text(255),
  modality: Text(255),
  freeText1: Text(4000),
  freeText2: Text(4000),
  ...customFields,
  folderId: IdOrNone('a course folder, or "" for the top'),
  categoryId: IdOrNone('a category, or "" for none'),
  ...settingsFields,
};

const lessonFields = {
  code: Code('the unique id ("lsnvname") in the whole catalogue, whatever its case'),
  name: Type.String({ minLength: 1, maxLength: 255 }),
  type: OneOf(LESSON_TYPES, 'A assignment, L lesson, W webinar, T instructor-led / LTI, E educational resource'),
  optional: Type.Boolean({ description: 'not needed to complete the course' }),
  description: Text(4000),
};

export const Lesson = Type.Object(
  { id: Id, courseId: Id, ...lessonFields, type: Type.String(), position: Type.Integer({ description: '1..n within its course' }) },
  { $id: 'Lesson' },
);

export const NewLesson = Type.Object(
  {
    code: lessonFields.code,
    name: lessonFields.name,
    type: lessonFields.type,
    optional: Type.Optional(lessonFields.optional),
    description: Type.Optional(lessonFields.description),
    position: Type.Optional(Type.Integer({ minimum: 1, description: 'where it goes (the lessons from there move down); default: last' })),
  },
  { additionalProperties: false },
);

export const LessonPatch = Type.Partial(
  Type.Object({ ...lessonFields, position: Type.Integer({ minimum: 1, description: 'moves the lesson; the others shift' }) }),
  { additionalProperties: false },
);

export const Course = Type.Object(
  {
    id: Id,
    ...courseFields,
    courseType: Type.String(),
    protocol: Type.String(),
    reviewMode: Type.String(),
    browseMode: Type.String(),
    windowWidth: Type.Integer(),
    windowHeight: Type.Integer(),
    folderId: Type.String({ description: '"" at the top' }),
    categoryId: Type.String({ description: '"" for none' }),
    audienceIds: Type.Array(Id, { description: 'identity audiences: the course goes only to users sharing one' }),
    lessons: Type.Array(Type.Ref(Lesson), { description: 'in position order' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Course' },
);

export const NewCourse = Type.Object(
  {
    ...Type.Partial(Type.Object(courseFields)).properties,
    code: courseFields.code,
    name: courseFields.name,
    audienceIds: Type.Optional(Type.Array(Id, { maxItems: 500 })),
    lessons: Type.Optional(
      Type.Array(Type.Omit(NewLesson, ['position'], { additionalProperties: false }), { maxItems: 500, description: 'in order' }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Settings default to: no self-(un)enrolment, sequentialLessons false and prerequisites true, aicc_scorm, scorm_api, modes allowed, 1024 x 768',
  },
);

export const CoursePatch = Type.Object(
  {
    ...Type.Partial(Type.Object(courseFields)).properties,
    audienceIds: Type.Optional(Type.Array(Id, { maxItems: 500, description: 'replaces the audiences' })),
  },
  {
    additionalProperties: false,
    description: 'Absent fields are left as they are. Setting one of sequentialLessons and prerequisites sets the other to its opposite.',
  },
);

export const CourseSummary = Type.Object(
  {
    id: Id,
    code: Type.String(),
    name: Type.String(),
    provider: Type.String(),
    modality: Type.String(),
    disabled: Type.Boolean(),
    audienceIds: Type.Array(Id),
  },
  { $id: 'CourseSummary' },
);

const criterion = (description = 'contains, case-insensitive') => Type.Optional(Type.String({ maxLength: 200, description }));
const customCriteria = Object.fromEntries(CUSTOM_FIELD_NAMES.map((k) => [k, criterion()]));
const filterTail = {
  match: Type.Optional(OneOf(['all', 'any'] as const, 'criteria combine with ALL (default) or ANY')),
  includeDisabled: Type.Optional(Type.Boolean({ description: 'include disabled ones (default false)' })),
};

export const CourseFilter = Type.Object(
  {
    name: criterion(),
    code: criterion(),
    description: criterion(),
    audience: criterion('has an audience whose name contains this'),
    provider: criterion(),
    modality: criterion(),
    ...customCriteria,
    ...filterTail,
  },
  { $id: 'CourseFilter', additionalProperties: false },
);

export const CourseSearch = Type.Object({ filter: Type.Ref(CourseFilter), ...PageBody, after: After }, { additionalProperties: false });

const excludeIds = Type.Optional(Type.Array(Id, { maxItems: 100_000, description: 'removed at the recap' }));

export const CourseSelection = Type.Union(
  [
    Type.Object({ type: Type.Literal('ids'), ids: Type.Array(Id, { maxItems: 100_000 }), excludeIds }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('filter'), filter: Type.Ref(CourseFilter), excludeIds }, { additionalProperties: false }),
  ],
  {
    $id: 'CourseSelection',
    description: 'what a course assistant run applies to: these ids or everything a filter matches; minus excludeIds',
  },
);

export const CourseSelectionResolve = Type.Object(
  { selection: Type.Ref(CourseSelection), ...PageBody, after: After },
  { additionalProperties: false },
);

// ---- Curricula -------------------------------------------------------------------------

const curriculumFields = {
  code: Code('the unique id, whatever its case'),
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Text(4000),
  disabled: Type.Boolean(),
  freeText1: Text(4000),
  freeText2: Text(4000),
  ...customFields,
  folderId: IdOrNone('a curriculum folder, or "" for the top'),
};

export const Curriculum = Type.Object(
  {
    id: Id,
    ...curriculumFields,
    folderId: Type.String({ description: '"" at the top' }),
    audienceIds: Type.Array(Id),
    courseIds: Type.Array(Id, { description: 'its courses, in order' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Curriculum' },
);

const CourseIds = Type.Array(Id, { maxItems: 500, description: 'its courses, in order, each once' });

export const NewCurriculum = Type.Object(
  {
    ...Type.Partial(Type.Object(curriculumFields)).properties,
    code: curriculumFields.code,
    name: curriculumFields.name,
    audienceIds: Type.Optional(Type.Array(Id, { maxItems: 500 })),
    courseIds: Type.Optional(CourseIds),
  },
  { additionalProperties: false },
);

export const CurriculumPatch = Type.Object(
  {
    ...Type.Partial(Type.Object(curriculumFields)).properties,
    audienceIds: Type.Optional(Type.Array(Id, { maxItems: 500, description: 'replaces the audiences' })),
    courseIds: Type.Optional(Type.Array(Id, { maxItems: 500, description: 'replaces the courses, in this order' })),
  },
  { additionalProperties: false, description: 'Absent fields are left as they are.' },
);

export const CurriculumCourses = Type.Object({ courseIds: CourseIds }, { additionalProperties: false });

export const CurriculumSummary = Type.Object(
  {
    id: Id,
    code: Type.String(),
    name: Type.String(),
    disabled: Type.Boolean(),
    audienceIds: Type.Array(Id),
    courseCount: Type.Integer(),
  },
  { $id: 'CurriculumSummary' },
);

export const CurriculumFilter = Type.Object(
  {
    name: criterion(),
    code: criterion(),
    description: criterion(),
    audience: criterion('has an audience whose name contains this'),
    ...customCriteria,
    ...filterTail,
  },
  { $id: 'CurriculumFilter', additionalProperties: false },
);

export const CurriculumSearch = Type.Object(
  { filter: Type.Ref(CurriculumFilter), ...PageBody, after: After },
  { additionalProperties: false },
);

export const CurriculumSelection = Type.Union(
  [
    Type.Object({ type: Type.Literal('ids'), ids: Type.Array(Id, { maxItems: 100_000 }), excludeIds }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('filter'), filter: Type.Ref(CurriculumFilter), excludeIds }, { additionalProperties: false }),
  ],
  {
    $id: 'CurriculumSelection',
    description: 'what a curriculum assistant run applies to: these ids or everything a filter matches; minus excludeIds',
  },
);

export const CurriculumSelectionResolve = Type.Object(
  { selection: Type.Ref(CurriculumSelection), ...PageBody, after: After },
  { additionalProperties: false },
);

// ---- Folders, categories, competencies -------------------------------------------------

export const CatalogFolder = Type.Object(
  {
    id: Id,
    kind: OneOf(FOLDER_KINDS),
    name: Type.String(),
    parentId: Type.String({ description: '"" at the top' }),
    depth: Type.Integer({ description: '0 at the top' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'CatalogFolder' },
);

export const NewCatalogFolder = Type.Object(
  {
    kind: OneOf(FOLDER_KINDS, 'holds courses or curricula'),
    name: Type.String({ minLength: 1, maxLength: 255 }),
    parentId: Type.Optional(IdOrNone('a folder of the same kind, or "" (default) for the top')),
  },
  { additionalProperties: false },
);

export const CatalogFolderPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    parentId: Type.Optional(IdOrNone('moves the folder with its sub-folders; "" for the top')),
  },
  { additionalProperties: false },
);

export const FolderQuery = Type.Object({ kind: Type.Optional(OneOf(FOLDER_KINDS)) }, { additionalProperties: false });

export const Category = Type.Object(
  { id: Id, name: Type.String(), description: Type.String(), createdAt: Type.String({ format: 'date-time' }) },
  { $id: 'Category' },
);

export const NewCategory = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 255 }), description: Type.Optional(Text(4000)) },
  { additionalProperties: false },
);

export const CategoryPatch = Type.Partial(NewCategory, { additionalProperties: false });

export const Competency = Type.Object(
  { id: Id, code: Type.String(), name: Type.String(), description: Type.String(), createdAt: Type.String({ format: 'date-time' }) },
  { $id: 'Competency' },
);

export const NewCompetency = Type.Object(
  { code: Code('unique, whatever its case'), name: Type.String({ minLength: 1, maxLength: 255 }), description: Type.Optional(Text(4000)) },
  { additionalProperties: false },
);

export const CompetencyPatch = Type.Partial(NewCompetency, { additionalProperties: false });

export const CompetencyQuery = Type.Object(
  { query: Type.Optional(Type.String({ maxLength: 200, description: 'contains, in code or name' })) },
  { additionalProperties: false },
);

export const CATALOG_SCHEMAS = [
  Lesson,
  Course,
  CourseSummary,
  CourseFilter,
  CourseSelection,
  Curriculum,
  CurriculumSummary,
  CurriculumFilter,
  CurriculumSelection,
  CatalogFolder,
  Category,
  Competency,
];
