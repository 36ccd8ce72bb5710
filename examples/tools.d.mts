// Types for examples/tools.mjs (plain JavaScript so `--tools` loads it without a build step).
import type { Tool } from '../src/tools/types.js';
declare const tools: Tool[];
export default tools;
export declare function zoneOf(place: string): string;
export declare function timeIn(place: string, now?: Date): { place: string; timeZone: string; time: string; date: string };
export declare function convert(value: number, from: string, to: string): { value: number; from: string; to: string; result: number };
