import type { PermissionDeclaration } from '@assistants/kit';

/** The assignment service's permissions, declared to identity when it starts. Scoped ones
 * are checked per user (on the user's organisation) through identity's GetUsersForAction. */
export const PERMISSIONS = {
  read: 'assignments:read',
  write: 'assignments:write',
  tutors: 'tutors:write',
  accessProperties: 'access-properties:write',
} as const;

export const ASSIGNMENT_PERMISSIONS: PermissionDeclaration[] = [
  { name: PERMISSIONS.read, description: 'see course and curriculum assignments, certificates and tutorships', rootOnly: false },
  {
    name: PERMISSIONS.write,
    description: 'assign, change and remove course and curriculum assignments, issue certificates',
    rootOnly: false,
  },
  { name: PERMISSIONS.tutors, description: 'make users tutors of courses for the learners of a list', rootOnly: false },
  {
    name: PERMISSIONS.accessProperties,
    description: 'give lists visibility of and enrolment in courses and curricula (every member, now and later)',
    rootOnly: true,
  },
];
