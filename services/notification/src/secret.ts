// Shared with the import service (its welcome passwords): see the kit.
export { SecretBox } from '@assistants/kit';
