// The notification package as others use it: the service definition (to run it, in main.ts
// and in tests), its client, its permissions. Gateway and services that only call it import
// '@assistants/notification/client', which loads none of the service's code.
export { notificationService } from './service';
export { notificationClient, type NotificationClient } from './client';
export { NOTIFICATION_PERMISSIONS, PERMISSIONS as NOTIFICATION_PERMISSION_NAMES } from './permissions';
export { STREAM as NOTIFICATION_STREAM, STREAM_SUBJECTS as NOTIFICATION_STREAM_SUBJECTS } from './events';
