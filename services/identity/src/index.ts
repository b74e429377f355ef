// The identity package as others use it: the service definition (to run it, in main.ts and
// in tests), its client, and its event subjects. Gateway and services that only call it
// import '@assistants/identity/client', which loads none of the service's code.
export { identityService } from './service';
export { identityAuthority, identityClient, type IdentityClient } from './client';
export { STREAM as IDENTITY_STREAM, STREAM_SUBJECTS as IDENTITY_STREAM_SUBJECTS } from './events';
