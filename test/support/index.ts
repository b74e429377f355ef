export * from './catalog';
export * from './events';
export * from './identity';
export * from './nats';
export * from './ports';
export * from './postgres';
export * from './stack';
export * from './processes';
