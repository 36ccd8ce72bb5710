// The inspector's frames in three modules, along the seams of the old single file: the wire format
// (frame-schema.ts), the sanitiser (sanitize.ts) and the hub that turns the inspection stream into
// frames (frame-hub.ts). This file re-exports them for existing importers.
export * from './frame-schema.js';
export * from './sanitize.js';
export * from './frame-hub.js';
