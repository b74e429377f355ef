// The import package as others use it: the service definition (to run it, in main.ts and in
// tests), its client, its permissions, and its kinds (the gateway serves their sample files
// and documentation pages from the same declarations).
export { importService } from './service';
export { importClient, type ImportClient } from './client';
export { IMPORT_PERMISSIONS, PERMISSIONS as IMPORT_PERMISSION_NAMES } from './permissions';
export { KINDS } from './kinds';
