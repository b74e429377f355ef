export * from './events';
export * from './gateway-process';
export * from './identity';
export * from './nats';
export * from './ports';
export * from './postgres';
export * from './stack';
