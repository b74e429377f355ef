// The assignment package as others use it: the service definition (to run it, in main.ts and
// in tests), its client, its permissions and event subjects. Gateway and services that only
// call it import '@assistants/assignment/client', which loads none of the service's code.
export { assignmentService } from './service';
export { assignmentClient, type AssignmentClient } from './client';
export { ASSIGNMENT_PERMISSIONS, PERMISSIONS as ASSIGNMENT_PERMISSION_NAMES } from './permissions';
export { LIST_ENROLMENT_DURABLE } from './list-enrolment';
export { STREAM as ASSIGNMENT_STREAM, STREAM_SUBJECTS as ASSIGNMENT_STREAM_SUBJECTS } from './events';
