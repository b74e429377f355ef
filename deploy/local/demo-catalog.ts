// The catalogue part of `npm run demo:load`: course and curriculum folders, categories,
// competencies, 31 courses with lessons of every type and 6 curricula, through the HTTP API.
// Everything is spelled out below (no random choice), so every demo catalogue is the same.

/** The HTTP call of demo-data.ts: throws on an error status, retries on 429. */
export type Call = <T = any>(method: string, path: string, body?: unknown) => Promise<T>;

type LessonLetter = 'A' | 'L' | 'W' | 'T' | 'E';

interface CourseSpec {
  code: string;
  name: string;
  description: string;
  /** Path in the course folder tree; "" for the top. */
  folder: string;
  category: string;
  provider: string;
  modality: string;
  /** One letter per lesson, in order: A assignment, L lesson, W webinar, T instructor-led, E resource. */
  lessons: string;
  hours: number;
  audiences?: string[];
  mandatory?: boolean;
  disabled?: boolean;
  externalTraining?: boolean;
  certificate?: string;
  /** C3 settings on top of those the modality gives. */
  settings?: Record<string, unknown>;
}

interface CurriculumSpec {
  code: string;
  name: string;
  description: string;
  folder: string;
  courses: string[];
  audiences?: string[];
  validity: string;
  disabled?: boolean;
}

export const COURSE_FOLDERS = [
  'Compliance',
  'Compliance/Health and safety',
  'Compliance/Data protection',
  'Sales and customers',
  'Sales and customers/Products',
  'Management',
  'IT',
  'IT/Office tools',
  'IT/Cybersecurity',
  'Onboarding',
];

export const CURRICULUM_FOLDERS = ['Onboarding paths', 'Certifications', 'Certifications/Sales', 'Compliance paths'];

const CATEGORIES = [
  { name: 'Compliance', description: 'Training required by law or by company policy' },
  { name: 'Soft skills', description: 'Communication, sales and customer relations' },
  { name: 'Technical skills', description: 'Tools and IT' },
  { name: 'Management', description: 'For team leaders and managers' },
  { name: 'Product knowledge', description: 'Our products and services' },
  { name: 'Onboarding', description: 'The first weeks in the company' },
];

const COMPETENCIES = [
  { code: 'COMP-COMM', name: 'Communication', description: 'Speaks and writes clearly to colleagues and customers' },
  { code: 'COMP-NEGO', name: 'Negotiation', description: 'Reaches agreements that hold' },
  { code: 'COMP-CUST', name: 'Customer care', description: 'Understands and answers customer needs' },
  { code: 'COMP-LEAD', name: 'Leadership', description: 'Leads a team towards its objectives' },
  { code: 'COMP-SAFETY', name: 'Workplace safety', description: 'Knows and applies the safety rules' },
  { code: 'COMP-GDPR', name: 'Data protection', description: 'Handles personal data lawfully' },
  { code: 'COMP-SHEETS', name: 'Spreadsheets', description: 'Builds and reads spreadsheets' },
  { code: 'COMP-SEC', name: 'Cybersecurity', description: 'Recognises and reports threats' },
];

const H_AND_S = 'Compliance/Health and safety';
const GDPR = 'Compliance/Data protection';
const SALES = 'Sales and customers';
const PRODUCTS = 'Sales and customers/Products';
const OFFICE = 'IT/Office tools';
const SECURITY = 'IT/Cybersecurity';

export const COURSES: CourseSpec[] = [
  {
    code: 'SAF-101',
    name: 'Fire safety essentials',
    description: 'Prevent fires, raise the alarm and evacuate a building.',
    folder: H_AND_S,
    category: 'Compliance',
    provider: 'SafeWork Institute',
    modality: 'e-learning',
    lessons: 'LLAE',
    hours: 1,
    audiences: ['Safety'],
    mandatory: true,
    certificate: 'CERT-SAFETY',
  },
  {
    code: 'SAF-102',
    name: 'Working at height',
    description: 'Ladders, scaffolds and harnesses: the rules and the practice.',
    folder: H_AND_S,
    category: 'Compliance',
    provider: 'SafeWork Institute',
    modality: 'classroom',
    lessons: 'LTA',
    hours: 7,
    audiences: ['Safety'],
    mandatory: true,
    certificate: 'CERT-SAFETY',
  },
  {
    code: 'SAF-103',
    name: 'First aid at work',
    description: 'Protect, alert, rescue: the first gestures until help arrives.',
    folder: H_AND_S,
    category: 'Compliance',
    provider: 'SafeWork Institute',
    modality: 'blended',
    lessons: 'LWTE',
    hours: 14,
    audiences: ['Safety'],
    certificate: 'CERT-SAFETY',
  },
  {
    code: 'SAF-104',
    name: 'Manual handling',
    description: 'Lift and carry loads without hurting your back.',
    folder: H_AND_S,
    category: 'Compliance',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LLA',
    hours: 1,
  },
  {
    code: 'SAF-110',
    name: 'Ergonomics of the home office',
    description: 'Set up a healthy workstation at home.',
    folder: H_AND_S,
    category: 'Compliance',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LE',
    hours: 0.5,
    audiences: ['Remote workers'],
    settings: { selfEnrolment: true, selfUnenrolment: true },
  },
  {
    code: 'GDPR-101',
    name: 'GDPR fundamentals',
    description: 'Personal data, lawful bases, rights of data subjects, breaches.',
    folder: GDPR,
    category: 'Compliance',
    provider: 'Learnwise',
    modality: 'e-learning',
    lessons: 'LLAE',
    hours: 1.5,
    mandatory: true,
    certificate: 'CERT-COMPLIANCE',
    settings: { protocol: 'aicc_hacp' },
  },
  {
    code: 'GDPR-201',
    name: 'GDPR for managers',
    description: 'What a manager answers for: registers, processors, impact assessments.',
    folder: GDPR,
    category: 'Compliance',
    provider: 'Learnwise',
    modality: 'virtual classroom',
    lessons: 'WLA',
    hours: 3,
    audiences: ['Managers'],
  },
  {
    code: 'ETH-101',
    name: 'Code of conduct',
    description: 'Our values and the rules that follow from them.',
    folder: 'Compliance',
    category: 'Compliance',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LA',
    hours: 0.5,
    mandatory: true,
    certificate: 'CERT-COMPLIANCE',
  },
  {
    code: 'ETH-102',
    name: 'Anti-bribery and corruption',
    description: 'Gifts, invitations, conflicts of interest: recognise and report.',
    folder: 'Compliance',
    category: 'Compliance',
    provider: 'Learnwise',
    modality: 'e-learning',
    lessons: 'LLA',
    hours: 1,
    mandatory: true,
    settings: { courseType: 'aicc_only', protocol: 'aicc_hacp' },
  },
  {
    code: 'SAL-101',
    name: 'Sales fundamentals',
    description: 'From the first call to the signed order.',
    folder: SALES,
    category: 'Soft skills',
    provider: 'Skillbridge',
    modality: 'blended',
    lessons: 'LWAT',
    hours: 10,
    audiences: ['Sales people'],
  },
  {
    code: 'SAL-201',
    name: 'Negotiation techniques',
    description: 'Prepare, anchor, concede and close.',
    folder: SALES,
    category: 'Soft skills',
    provider: 'Skillbridge',
    modality: 'classroom',
    lessons: 'TTA',
    hours: 14,
    audiences: ['Sales people'],
  },
  {
    code: 'SAL-202',
    name: 'Key account management',
    description: 'Plan and grow the accounts that matter most.',
    folder: SALES,
    category: 'Soft skills',
    provider: 'Skillbridge',
    modality: 'virtual classroom',
    lessons: 'WWAE',
    hours: 6,
    audiences: ['Managers', 'Sales people'],
  },
  {
    code: 'SAL-301',
    name: 'Social selling',
    description: 'Find and engage buyers on professional networks.',
    folder: SALES,
    category: 'Soft skills',
    provider: 'Open Campus',
    modality: 'e-learning',
    lessons: 'LE',
    hours: 1,
    settings: { selfEnrolment: true },
  },
  {
    code: 'CUS-101',
    name: 'Customer service excellence',
    description: 'Listen, answer, follow up: a service customers remember.',
    folder: SALES,
    category: 'Soft skills',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LLAE',
    hours: 2,
  },
  {
    code: 'CUS-102',
    name: 'Handling difficult calls',
    description: 'Keep calm and find a way out with an unhappy customer.',
    folder: SALES,
    category: 'Soft skills',
    provider: 'In-house academy',
    modality: 'virtual classroom',
    lessons: 'WA',
    hours: 2,
  },
  {
    code: 'PRD-101',
    name: 'Product range overview',
    description: 'Every product line, who it is for and how it compares.',
    folder: PRODUCTS,
    category: 'Product knowledge',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LLLE',
    hours: 2,
  },
  {
    code: 'PRD-102',
    name: 'Product range 2026: what is new',
    description: 'The launches of the year, presented by the product managers.',
    folder: PRODUCTS,
    category: 'Product knowledge',
    provider: 'In-house academy',
    modality: 'webinar',
    lessons: 'WE',
    hours: 1,
    settings: { selfEnrolment: true, selfUnenrolment: true },
  },
  {
    code: 'PRD-090',
    name: 'Product range 2024',
    description: 'Replaced by PRD-101 and PRD-102.',
    folder: PRODUCTS,
    category: 'Product knowledge',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LLE',
    hours: 2,
    disabled: true,
  },
  {
    code: 'MGT-101',
    name: 'First-time manager',
    description: 'The first 100 days of leading a team.',
    folder: 'Management',
    category: 'Management',
    provider: 'Open Campus',
    modality: 'blended',
    lessons: 'LWTA',
    hours: 12,
    audiences: ['Managers'],
  },
  {
    code: 'MGT-102',
    name: 'Giving feedback',
    description: 'Say what works and what does not, so that it helps.',
    folder: 'Management',
    category: 'Management',
    provider: 'Open Campus',
    modality: 'e-learning',
    lessons: 'LA',
    hours: 1,
    audiences: ['Managers'],
  },
  {
    code: 'MGT-201',
    name: 'Leading remote teams',
    description: 'Rituals, trust and tools for a team that rarely meets.',
    folder: 'Management',
    category: 'Management',
    provider: 'Skillbridge',
    modality: 'virtual classroom',
    lessons: 'WWA',
    hours: 4,
    audiences: ['Managers', 'Remote workers'],
  },
  {
    code: 'MGT-202',
    name: 'Annual reviews',
    description: 'Prepare and hold the annual review of each team member.',
    folder: 'Management',
    category: 'Management',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LEA',
    hours: 1,
    audiences: ['Managers'],
  },
  {
    code: 'IT-101',
    name: 'Spreadsheets: the basics',
    description: 'Cells, formats, simple formulas and charts.',
    folder: OFFICE,
    category: 'Technical skills',
    provider: 'Learnwise',
    modality: 'e-learning',
    lessons: 'LLLA',
    hours: 3,
    settings: { windowWidth: 1280, windowHeight: 800, selfEnrolment: true },
  },
  {
    code: 'IT-102',
    name: 'Spreadsheets: formulas and pivot tables',
    description: 'Lookups, conditions and pivot tables on real data.',
    folder: OFFICE,
    category: 'Technical skills',
    provider: 'Learnwise',
    modality: 'e-learning',
    lessons: 'LLAE',
    hours: 4,
    settings: { windowWidth: 1280, windowHeight: 800, fullScreen: true, sequentialLessons: true, selfEnrolment: true },
  },
  {
    code: 'IT-090',
    name: 'Spreadsheets 2010',
    description: 'Replaced by IT-101 and IT-102.',
    folder: OFFICE,
    category: 'Technical skills',
    provider: 'Learnwise',
    modality: 'e-learning',
    lessons: 'LLA',
    hours: 3,
    disabled: true,
    settings: { protocol: 'aicc_hacp' },
  },
  {
    code: 'IT-110',
    name: 'Video meetings that work',
    description: 'Prepare, run and follow up a video meeting.',
    folder: OFFICE,
    category: 'Technical skills',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LE',
    hours: 0.5,
    audiences: ['Remote workers'],
  },
  {
    code: 'SEC-101',
    name: 'Cybersecurity awareness',
    description: 'Passwords, phishing, updates and what to report.',
    folder: SECURITY,
    category: 'Technical skills',
    provider: 'Learnwise',
    modality: 'e-learning',
    lessons: 'LLAE',
    hours: 1,
    mandatory: true,
    certificate: 'CERT-COMPLIANCE',
    settings: { reviewMode: 'not_allowed', browseMode: 'suspend', learnerMayClearStats: true },
  },
  {
    code: 'SEC-102',
    name: 'Phishing simulation debrief',
    description: 'What last quarter’s simulation caught, and how to do better.',
    folder: SECURITY,
    category: 'Technical skills',
    provider: 'In-house academy',
    modality: 'webinar',
    lessons: 'WA',
    hours: 1,
    settings: { learnerMayRecomputeStatus: true },
  },
  {
    code: 'ONB-101',
    name: 'Welcome to the company',
    description: 'Our history, our organisation and who to ask for what.',
    folder: 'Onboarding',
    category: 'Onboarding',
    provider: 'In-house academy',
    modality: 'e-learning',
    lessons: 'LLE',
    hours: 1,
    audiences: ['New hires'],
  },
  {
    code: 'ONB-102',
    name: 'Our tools in one day',
    description: 'Accounts, mail, intranet, expenses: a hands-on day.',
    folder: 'Onboarding',
    category: 'Onboarding',
    provider: 'In-house academy',
    modality: 'classroom',
    lessons: 'TA',
    hours: 7,
    audiences: ['New hires'],
  },
  {
    code: 'EXT-001',
    name: 'Customer Experience Summit (external)',
    description: 'Two days of talks and workshops; attendance recorded from the organiser’s certificate.',
    folder: SALES,
    category: 'Soft skills',
    provider: 'CX Events',
    modality: 'conference',
    lessons: 'T',
    hours: 14,
    externalTraining: true,
  },
];

export const CURRICULA: CurriculumSpec[] = [
  {
    code: 'PATH-ONBOARDING',
    name: 'New hire onboarding',
    description: 'The first month: the company, its tools and its rules.',
    folder: 'Onboarding paths',
    courses: ['ONB-101', 'ONB-102', 'ETH-101', 'GDPR-101', 'SEC-101'],
    audiences: ['New hires'],
    validity: '',
  },
  {
    code: 'PATH-SAFETY',
    name: 'Safety certification',
    description: 'The safety courses every site worker holds.',
    folder: 'Certifications',
    courses: ['SAF-101', 'SAF-102', 'SAF-103', 'SAF-104'],
    audiences: ['Safety'],
    validity: '2 years',
  },
  {
    code: 'PATH-SALES',
    name: 'Sales certification',
    description: 'From fundamentals to key accounts.',
    folder: 'Certifications/Sales',
    courses: ['SAL-101', 'PRD-101', 'SAL-201', 'SAL-202'],
    audiences: ['Sales people'],
    validity: '3 years',
  },
  {
    code: 'PATH-MANAGER',
    name: 'Manager track',
    description: 'What a new manager needs in the first year.',
    folder: 'Certifications',
    courses: ['MGT-101', 'MGT-102', 'GDPR-201', 'MGT-202'],
    audiences: ['Managers'],
    validity: '',
  },
  {
    code: 'PATH-COMPLIANCE',
    name: 'Annual compliance',
    description: 'The mandatory courses, every year.',
    folder: 'Compliance paths',
    courses: ['ETH-101', 'ETH-102', 'GDPR-101', 'SEC-101'],
    validity: '1 year',
  },
  {
    code: 'PATH-SALES-2024',
    name: 'Sales certification 2024',
    description: 'Replaced by PATH-SALES.',
    folder: 'Certifications/Sales',
    courses: ['SAL-101', 'PRD-090', 'SAL-201'],
    audiences: ['Sales people'],
    validity: '3 years',
    disabled: true,
  },
];

const LESSON_NAMES: Record<LessonLetter, string> = {
  A: 'Assignment',
  L: 'Module',
  W: 'Live webinar',
  T: 'Classroom session',
  E: 'Resources',
};

/** Lessons named after their type, numbered when a course has several of one type. */
function lessonsOf(course: CourseSpec) {
  const letters = [...course.lessons] as LessonLetter[];
  const seen: Partial<Record<LessonLetter, number>> = {};
  return letters.map((type, i) => {
    const n = (seen[type] = (seen[type] ?? 0) + 1);
    const several = letters.filter((t) => t === type).length > 1;
    return {
      code: `${course.code}-${i + 1}`,
      name: several ? `${LESSON_NAMES[type]} ${n}` : LESSON_NAMES[type],
      type,
      // Resources are there to help, not to complete the course.
      optional: type === 'E',
    };
  });
}

const LANGUAGES = ['en', 'en, fr', 'en, fr, es', 'fr'];
const LEVELS: Record<string, string> = { '0': '', '1': 'beginner', '2': 'intermediate', '3': 'advanced' };
const INSTRUCTOR_LED = ['classroom', 'conference'];

/** Custom fields: 1 duration, 2 level, 3 languages, 4 mandatory or optional, 5 budget line. */
function courseFields(course: CourseSpec, index: number) {
  const level = LEVELS[course.code.split('-').pop()![0]] ?? '';
  return {
    code: course.code,
    name: course.name,
    description: course.description,
    provider: course.provider,
    modality: course.modality,
    disabled: course.disabled ?? false,
    externalTraining: course.externalTraining ?? false,
    certificateTemplateId: course.certificate ?? '',
    freeText1:
      level === 'beginner' || level === ''
        ? 'Prerequisites: none'
        : `Prerequisites: the ${level === 'advanced' ? 'intermediate' : 'beginner'} course`,
    custom1: `${course.hours} h`,
    custom2: level,
    custom3: LANGUAGES[index % LANGUAGES.length],
    custom4: course.mandatory ? 'mandatory' : 'optional',
    custom5: course.category === 'Compliance' ? 'HR-COMPLIANCE' : 'TRAINING-PLAN',
    // Instructor-led training follows its sessions in order (and then has no prerequisites).
    ...(INSTRUCTOR_LED.includes(course.modality) ? { courseType: 'instructor_led', sequentialLessons: true } : {}),
    ...(course.modality === 'blended' ? { sequentialLessons: true } : {}),
    ...course.settings,
  };
}

/** Creates the folders of a tree given as paths (each after its parent); answers path → id. */
async function createFolders(call: Call, kind: 'course' | 'curriculum', paths: string[]) {
  const ids: Record<string, string> = { '': '' };
  for (const path of paths) {
    const slash = path.lastIndexOf('/');
    const parentId = ids[slash < 0 ? '' : path.slice(0, slash)];
    ids[path] = (await call('POST', '/v1/catalog/folders', { kind, name: path.slice(slash + 1), parentId })).id;
  }
  return ids;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Whether the demo catalogue is there; undefined when the catalog service is unavailable. */
export async function catalogLoaded(call: Call): Promise<boolean | undefined> {
  try {
    const found = await call('POST', '/v1/courses/search', { filter: { code: COURSES[0].code, includeDisabled: true }, limit: 1 });
    return found.total > 0;
  } catch (err) {
    if (err instanceof HttpError && err.status === 503) return undefined;
    throw err;
  }
}

/** Loads the catalogue; the audiences (by name) are those of the identity part. */
export async function loadCatalog(call: Call, audiences: Record<string, string>) {
  const audienceIds = (names: string[] = []) =>
    names.map((name) => {
      if (!audiences[name]) throw new Error(`no audience "${name}": load the identity demo data first`);
      return audiences[name];
    });

  const courseFolders = await createFolders(call, 'course', COURSE_FOLDERS);
  const curriculumFolders = await createFolders(call, 'curriculum', CURRICULUM_FOLDERS);
  const categories: Record<string, string> = {};
  for (const category of CATEGORIES) categories[category.name] = (await call('POST', '/v1/catalog/categories', category)).id;
  for (const competency of COMPETENCIES) await call('POST', '/v1/catalog/competencies', competency);

  const courseIds: Record<string, string> = {};
  for (const [index, course] of COURSES.entries()) {
    const created = await call('POST', '/v1/courses', {
      ...courseFields(course, index),
      folderId: courseFolders[course.folder],
      categoryId: categories[course.category],
      audienceIds: audienceIds(course.audiences),
      lessons: lessonsOf(course),
    });
    courseIds[course.code] = created.id;
  }
  for (const curriculum of CURRICULA) {
    await call('POST', '/v1/curricula', {
      code: curriculum.code,
      name: curriculum.name,
      description: curriculum.description,
      disabled: curriculum.disabled ?? false,
      folderId: curriculumFolders[curriculum.folder],
      custom1: `${curriculum.courses.length} courses`,
      custom2: curriculum.validity,
      audienceIds: audienceIds(curriculum.audiences),
      courseIds: curriculum.courses.map((code) => courseIds[code]),
    });
  }
  const lessons = COURSES.reduce((sum, c) => sum + c.lessons.length, 0);
  console.log(
    `${COURSES.length} courses (${lessons} lessons) in ${COURSE_FOLDERS.length} folders, ${CURRICULA.length} curricula in ` +
      `${CURRICULUM_FOLDERS.length} folders, ${CATEGORIES.length} categories, ${COMPETENCIES.length} competencies`,
  );
}
