import type { PermissionDeclaration } from '@assistants/kit';

/** The assessment service's permissions, declared to identity when it starts. All scoped:
 * tests:* on the test's organisation (a grant on an ancestor covers it), results:* on the
 * organisation of the user whose attempt it is. */
export const PERMISSIONS = {
  testsRead: 'tests:read',
  testsWrite: 'tests:write',
  resultsRead: 'results:read',
  resultsWrite: 'results:write',
} as const;

export const ASSESSMENT_PERMISSIONS: PermissionDeclaration[] = [
  { name: PERMISSIONS.testsRead, description: 'see tests (épreuves), their blocks and questions, and select them', rootOnly: false },
  { name: PERMISSIONS.testsWrite, description: 'create and change tests, their blocks and questions', rootOnly: false },
  { name: PERMISSIONS.resultsRead, description: "see users' attempts on tests, with their answers", rootOnly: false },
  {
    name: PERMISSIONS.resultsWrite,
    description: "record users' attempts, edit their scores (T1) and delete them (T2)",
    rootOnly: false,
  },
];
