// The option tables of the docs come from each binary's own --help, which the binaries render from
// their option definitions (src/cli/args.ts OPTIONS, src/proxy/args.ts, src/emulator/cli.ts). Reading
// the help rather than the modules keeps this working whatever shape the definitions take.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BINARIES = {
  'realtime-agent': 'src/cli.ts',
  'realtime-proxy': 'src/proxy/cli.ts',
  'realtime-emulator': 'src/emulator/cli.ts',
} as const;
export type Binary = keyof typeof BINARIES;

export interface HelpOption {
  /** The option as the help writes it, e.g. `--store DIR|postgres://…` or `--cert FILE --key FILE`. */
  left: string;
  /** Every flag the line names, e.g. ['cert', 'key']. */
  flags: string[];
  help: string;
  def?: string;
  env?: string;
}
export interface HelpGroup {
  name: string;
  options: HelpOption[];
}
export interface ParsedHelp {
  usage: string[];
  groups: HelpGroup[];
}

/** Runs `<binary> --help` from the TypeScript sources (so the docs follow the code, not a stale build). */
export async function readHelp(repo: string, bin: Binary): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(repo, BINARIES[bin]), '--help'], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', OPENAI_API_KEY: '', REALTIME_URL: '', RTC_STORE: '' },
    timeout: 60_000,
  });
  return stdout;
}

const OPTION_LINE = /^ {2}(--[a-z][\w-]*\S*(?: (?! )\S+)*)(?: {2,}|\s+(?=[a-z(]))(\S.*)$/;
const META = /\s\[((?:default|env): [^\]]*)\]$/;
const GROUP_LINE = /^([A-Z][\w ]*):$/;

/** Parses a help text: its usage lines, and option lines grouped under "Group:" headings. */
export function parseHelp(text: string): ParsedHelp {
  const usage: string[] = [];
  const groups: HelpGroup[] = [];
  let group: HelpGroup | undefined;
  let last: HelpOption | undefined;
  for (const line of text.split('\n')) {
    if (/^(Usage:| {7}\S)/.test(line) && !group) {
      usage.push(line.replace(/^Usage: /, '').trim());
      continue;
    }
    const g = GROUP_LINE.exec(line);
    if (g && !line.startsWith('Usage')) {
      group = { name: g[1], options: [] };
      groups.push(group);
      last = undefined;
      continue;
    }
    const m = OPTION_LINE.exec(line);
    if (m) {
      if (!group) {
        group = { name: 'Options', options: [] };
        groups.push(group);
      }
      last = toOption(m[1], m[2]);
      group.options.push(last);
      continue;
    }
    // A continuation line: deeper indentation, no flag of its own.
    if (last && /^ {6,}\S/.test(line)) last.help = `${last.help} ${line.trim()}`;
    else last = undefined;
  }
  return { usage, groups: groups.filter((x) => x.options.length > 0) };
}

function toOption(left: string, rest: string): HelpOption {
  const flags = [...left.matchAll(/--([a-z][\w-]*)/g)].map((x) => x[1]);
  const meta = META.exec(rest);
  const out: HelpOption = { left, flags, help: meta ? rest.slice(0, meta.index) : rest };
  if (meta) {
    for (const part of meta[1].split('; ')) {
      const [k, ...v] = part.split(': ');
      if (k === 'default') out.def = v.join(': ');
      if (k === 'env') out.env = v.join(': ');
    }
  }
  return out;
}

/** Every flag a parsed help names, in order. */
export function allFlags(help: ParsedHelp): string[] {
  return help.groups.flatMap((g) => g.options.flatMap((o) => o.flags));
}
