// Worker entry for lease races: worker threads do not inherit the test runner's TypeScript loader, so
// this plain module registers tsx, then runs the racer (lease-racer-worker.ts).
import { register } from 'tsx/esm/api';

register();
await import('./lease-racer-worker.ts');
