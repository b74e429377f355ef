// The statistics package as others use it: the service definition (to run it, in main.ts and
// in tests), its client, its permissions and event subjects. Gateway and services that only
// call it import '@assistants/statistics/client', which loads none of the service's code.
export { statisticsService } from './service';
export { statisticsClient, type StatisticsClient } from './client';
export { STATISTICS_PERMISSIONS, PERMISSIONS as STATISTICS_PERMISSION_NAMES } from './permissions';
export { CATALOG_PROJECTION_DURABLE, ASSIGNMENT_PROJECTION_DURABLE } from './projections';
export { STREAM as STATISTICS_STREAM, STREAM_SUBJECTS as STATISTICS_STREAM_SUBJECTS } from './events';
