// The identity package as others use it: the service definition (to run it, in main.ts and
// in tests), its client, and its event subjects. Gateway and services that only call it
// import '@assistants/identity/client', which loads none of the service's code.
export { identityService } from './service';
export { identityClient, type IdentityClient } from './client';
export { STREAM as IDENTITY_STREAM, STREAM_SUBJECTS as IDENTITY_STREAM_SUBJECTS } from './events';
export { IDENTITY_PERMISSIONS } from './permissions';
export { ADMINISTRATOR_ROLE_ID } from './bootstrap';
export { DEFAULT_FOLDER_ID } from './lists';
