// The assessment package as others use it: the service definition (to run it, in main.ts and
// in tests), its client, its permissions, stream and the question shapes. Gateway and
// services that only call it import '@assistants/assessment/client'.
export { assessmentService } from './service';
export { assessmentClient, type AssessmentClient } from './client';
export { ASSESSMENT_PERMISSIONS, PERMISSIONS as ASSESSMENT_PERMISSION_NAMES } from './permissions';
export { STREAM as ASSESSMENT_STREAM, STREAM_SUBJECTS as ASSESSMENT_STREAM_SUBJECTS } from './events';
export * from './questions';
