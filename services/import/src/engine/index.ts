// The import engine: one streaming reader and one column declaration per kind (see README).
export * from './columns';
export * from './read';
export * from './rows';
export * from './files';
export * from './process';
