/*
 * The columns of X1, each optional, by key ("<group>.<name>"): its header and its SQL (a text
 * expression over the aliases of query.ts). The groups present say what a row is (query.ts).
 */

export type Group = 'user' | 'curriculum' | 'course' | 'lesson';

export interface Column {
  key: string;
  group: Group;
  header: string;
  sql: string;
  /** Joins it needs beyond its group's (see query.ts). */
  joins?: Join[];
}

export type Join = 'manager' | 'secondaryManager' | 'courseFolder' | 'category' | 'curriculumFolder';

const iso = (e: string) => `to_char(${e} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
const flag = (e: string) => `CASE WHEN ${e} THEN '1' ELSE '0' END`;
const STATUS = (alias: string) => `coalesce(${alias}.status, 'not_started')`;
const custom = (group: Group, alias: string, label: string) =>
  Array.from({ length: 10 }, (_, i) => ({
    key: `${group}.custom${i + 1}`,
    group,
    header: `${label} custom ${i + 1}`,
    sql: `${alias}.custom[${i + 1}]`,
  }));

export const COLUMNS: Column[] = [
  { key: 'user.lastName', group: 'user', header: 'last name', sql: 'u.last_name' },
  { key: 'user.firstName', group: 'user', header: 'first name', sql: 'u.first_name' },
  { key: 'user.login', group: 'user', header: 'login', sql: 'u.login' },
  { key: 'user.extId', group: 'user', header: 'user external id', sql: 'u.ext_id' },
  { key: 'user.email', group: 'user', header: 'email', sql: 'u.email' },
  { key: 'user.language', group: 'user', header: 'language', sql: 'u.language' },
  { key: 'user.activationDate', group: 'user', header: 'activation date', sql: 'u.activation_date' },
  { key: 'user.expirationDate', group: 'user', header: 'expiration date', sql: 'u.expiration_date' },
  { key: 'user.disabled', group: 'user', header: 'disabled', sql: flag('u.disabled') },
  { key: 'user.organisation', group: 'user', header: 'organisation', sql: 'o.label' },
  { key: 'user.organisationExtId', group: 'user', header: 'organisation external id', sql: 'o.ext_id' },
  {
    key: 'user.audiences',
    group: 'user',
    header: 'audiences',
    sql: `(SELECT string_agg(a.name, '||' ORDER BY a.name) FROM user_audiences ua JOIN audiences a ON a.id = ua.audience_id WHERE ua.user_id = u.id)`,
  },
  ...custom('user', 'u', 'user'),
  { key: 'user.city', group: 'user', header: 'city', sql: 'u.city' },
  { key: 'user.country', group: 'user', header: 'country', sql: 'u.country' },
  { key: 'user.managerId', group: 'user', header: 'manager id', sql: 'u.manager_id::text' },
  { key: 'user.managerExtId', group: 'user', header: 'manager external id', sql: 'm.ext_id', joins: ['manager'] },
  { key: 'user.secondaryManagerId', group: 'user', header: 'secondary manager id', sql: 'u.secondary_manager_id::text' },
  {
    key: 'user.secondaryManagerExtId',
    group: 'user',
    header: 'secondary manager external id',
    sql: 'm2.ext_id',
    joins: ['secondaryManager'],
  },
  { key: 'user.lastLogin', group: 'user', header: 'last login', sql: 'u.last_login_at' },

  { key: 'curriculum.name', group: 'curriculum', header: 'curriculum', sql: 'r.name' },
  { key: 'curriculum.folder', group: 'curriculum', header: 'curriculum folder', sql: 'rf.name', joins: ['curriculumFolder'] },
  { key: 'curriculum.code', group: 'curriculum', header: 'curriculum unique id', sql: 'r.code' },
  { key: 'curriculum.disabled', group: 'curriculum', header: 'curriculum disabled', sql: flag('r.disabled') },
  { key: 'curriculum.status', group: 'curriculum', header: 'curriculum status', sql: STATUS('rp') },
  { key: 'curriculum.statusDate', group: 'curriculum', header: 'curriculum status date', sql: iso('rp.status_date') },
  { key: 'curriculum.enrolmentDate', group: 'curriculum', header: 'curriculum enrolment date', sql: iso('ra.assigned_at') },
  { key: 'curriculum.startDate', group: 'curriculum', header: 'curriculum start date', sql: 'ra.start_date::text' },
  { key: 'curriculum.objectiveDate', group: 'curriculum', header: 'curriculum objective date', sql: 'ra.objective_date::text' },
  { key: 'curriculum.endDate', group: 'curriculum', header: 'curriculum end date', sql: 'ra.end_date::text' },
  ...custom('curriculum', 'r', 'curriculum'),

  { key: 'course.category', group: 'course', header: 'course category', sql: 'cat.name', joins: ['category'] },
  { key: 'course.name', group: 'course', header: 'course', sql: 'c.name' },
  { key: 'course.folder', group: 'course', header: 'course folder', sql: 'cf.name', joins: ['courseFolder'] },
  { key: 'course.code', group: 'course', header: 'course unique id', sql: 'c.code' },
  { key: 'course.disabled', group: 'course', header: 'course disabled', sql: flag('c.disabled') },
  { key: 'course.status', group: 'course', header: 'course status', sql: STATUS('cp') },
  { key: 'course.statusDate', group: 'course', header: 'course status date', sql: iso('cp.status_date') },
  { key: 'course.enrolmentDate', group: 'course', header: 'course enrolment date', sql: iso('ca.assigned_at') },
  { key: 'course.startDate', group: 'course', header: 'course start date', sql: 'ca.start_date::text' },
  { key: 'course.objectiveDate', group: 'course', header: 'course objective date', sql: 'ca.objective_date::text' },
  { key: 'course.endDate', group: 'course', header: 'course end date', sql: 'ca.end_date::text' },
  { key: 'course.option', group: 'course', header: 'course option', sql: 'ca.option' },
  ...custom('course', 'c', 'course'),

  { key: 'lesson.name', group: 'lesson', header: 'lesson', sql: 'l.name' },
  { key: 'lesson.code', group: 'lesson', header: 'lesson unique id', sql: 'l.code' },
  { key: 'lesson.status', group: 'lesson', header: 'lesson status', sql: STATUS('lp') },
  { key: 'lesson.statusDate', group: 'lesson', header: 'lesson status date', sql: iso('lp.status_date') },
  { key: 'lesson.score', group: 'lesson', header: 'lesson score', sql: 'lp.score::text' },
  { key: 'lesson.timeSpent', group: 'lesson', header: 'lesson time spent (s)', sql: 'coalesce(lp.time_spent_seconds, 0)::text' },
];

export const COLUMNS_BY_KEY = new Map(COLUMNS.map((c) => [c.key, c]));
