// realtime-proxy as a library: `startProxy` serves /v1/realtime and manages each client's context.
export { startProxy, clientCredential, isLoopback, REALTIME_PATHS, type ProxyOptions, type ProxyAuth, type RealtimeProxy } from './server.js';
export { ProxyConnection, type ConnectionConfig } from './connection.js';
export { peekType, peekString } from './peek.js';
export { DEFAULT_LIMITS, memoryBoundPerConnection, type ProxyLimits } from './limits.js';
export { CONVERSATION_HEADER } from './principal.js';
