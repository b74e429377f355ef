export { buildApp } from './app';
export { GatewayConfigSchema, type GatewayConfig } from './config';
export { startGateway, type RunningGateway } from './gateway';
