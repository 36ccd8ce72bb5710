// --tools FILE.mjs: an ES module whose default export is the tool list. Loaded and checked before the
// session starts, so a bad file is a one-line usage error (exit 2), never a stack trace.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createToolRegistry } from '../tools/registry.js';
import type { Tool } from '../tools/types.js';
import { UsageError } from './args.js';

export async function loadTools(path: string): Promise<Tool[]> {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new UsageError(`--tools ${path}: no such file (give the path of an ES module, e.g. examples/tools.mjs)`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UsageError(`--tools ${path}: cannot load the module (${msg}): it must be an ES module (.mjs, or .js with "type": "module")`);
  }
  const tools = mod.default;
  if (!Array.isArray(tools)) {
    throw new UsageError(`--tools ${path}: the default export must be an array of tools, e.g. export default [{ name, description, parameters, execute }]`);
  }
  try {
    createToolRegistry(tools);
  } catch (e) {
    throw new UsageError(`--tools ${path}: ${(e as Error).message}`);
  }
  return tools as Tool[];
}

/** How a call reads in the terminal: name(arguments). */
export function callText(name: string, args: string): string {
  return `${name}(${clip(args.trim() || '{}', 160)})`;
}

export function clip(s: string, max = 200): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
