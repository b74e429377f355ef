export { buildApp } from './app';
export { GatewayConfigSchema, type GatewayConfig } from './config';
export { startGateway, type GatewayOptions, type RunningGateway } from './gateway';
export type { ActionDefinition, AssistantKind } from './actions/action';
export { defineAction } from './actions/action';
