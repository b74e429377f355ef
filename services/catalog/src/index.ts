// The catalog package as others use it: the service definition (to run it, in main.ts and in
// tests), its client, and its event subjects. Gateway and services that only call it import
// '@assistants/catalog/client', which loads none of the service's code.
export { catalogService } from './service';
export { catalogClient, type CatalogClient } from './client';
export { STREAM as CATALOG_STREAM, STREAM_SUBJECTS as CATALOG_STREAM_SUBJECTS } from './events';
