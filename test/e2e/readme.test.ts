// The README works as written: it stays short, it gives the two commands CI runs, its links lead
// somewhere, every flag of every command it shows exists in that binary's --help, and its three
// examples (the CLI agent, a client through the proxy, the library) run as printed against the
// built-in emulator. Needs dist/ (npm test builds first).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { allFlags, parseHelp, readHelp, BINARIES, type Binary } from '../../scripts/docs/help-options.js';
import { REPO } from '../helpers/audio-env.js';
import { cleanEnv, cliCommand } from '../helpers/cli-run.js';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** The fenced code blocks of a language. */
function blocks(lang: string): string[] {
  return [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang).map((m) => m[2]);
}
function block(lang: string, containing: string): string {
  const found = blocks(lang).filter((b) => b.includes(containing));
  if (found.length !== 1) throw new Error(`README.md: expected one \`\`\`${lang} block with "${containing}", found ${found.length}`);
  return found[0];
}

/** Every command of the ```sh blocks, comments and env assignments removed, split at pipes and &&. */
function shellCommands(): string[][] {
  const out: string[][] = [];
  for (const b of blocks('sh')) {
    for (const line of b.split('\n')) {
      const bare = line.replace(/(^|\s)#.*$/, '').replace(/'[^']*'/g, "''").trim();
      for (const part of bare.split(/\s*(?:\|\||&&|\||;)\s*/)) {
        const words = part.split(/\s+/).filter(Boolean);
        while (words.length && (/^[A-Z_]+=/.test(words[0]) || words[0] === 'export')) words.shift();
        if (words[0] === 'npx') words.shift();
        if (words.length) out.push(words);
      }
    }
  }
  return out;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');

/** Relative links of a Markdown file (outside code blocks) whose file or heading does not exist. */
function brokenLinks(file: string): string[] {
  const text = readFileSync(join(REPO, file), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  const out: string[] = [];
  for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(link)) continue;
    const [path, anchor] = link.split('#');
    const target = path ? join(REPO, dirname(file), path) : join(REPO, file);
    if (!existsSync(target)) {
      out.push(`${file} links to ${link}: no such file`);
      continue;
    }
    if (anchor && target.endsWith('.md')) {
      const headings = [...readFileSync(target, 'utf8').matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]));
      if (!headings.includes(anchor)) out.push(`${file} links to ${link}: no such heading`);
    }
  }
  return out;
}

const flagsOf = {} as Record<Binary, string[]>;
beforeAll(async () => {
  for (const b of Object.keys(BINARIES) as Binary[]) flagsOf[b] = allFlags(parseHelp(await readHelp(REPO, b)));
}, 120_000);

describe('README.md', () => {
  it('is at most 200 lines', () => {
    expect(README.split('\n').length).toBeLessThanOrEqual(200);
  });

  it('gives the two commands verbatim, and CI runs the test command it gives', () => {
    const sh = blocks('sh').join('\n');
    expect(sh).toMatch(/^npm ci && npm start(\s|$)/m);
    expect(sh).toMatch(/^npm test(\s|$)/m);
    expect(PKG.scripts.start).toBeDefined();
    expect(readFileSync(join(REPO, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });

  it('shows each of the three uses', () => {
    const cmds = shellCommands().map((w) => w[0]);
    expect(cmds).toContain('realtime-agent');
    expect(cmds).toContain('realtime-proxy');
    expect(block('js', 'createRealtimeAgent')).toContain("from 'realtime-context'");
  });

  it('links only to files and headings that exist (and so do the docs it links to)', () => {
    const files = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    expect(brokenLinks('README.md').length + files.length).toBeGreaterThan(5);
    expect(files.flatMap(brokenLinks)).toEqual([]);
  });

  it('uses only flags its binaries accept, and npm scripts that exist', () => {
    const problems: string[] = [];
    for (const words of shellCommands()) {
      const [cmd, ...args] = words;
      if (cmd in BINARIES) {
        for (const a of args.filter((x) => x.startsWith('--'))) {
          const flag = a.slice(2).split('=')[0];
          if (!flagsOf[cmd as Binary].includes(flag)) problems.push(`README.md: ${cmd} has no flag --${flag} (in: ${words.join(' ')})`);
        }
      } else if (cmd === 'npm') {
        const script = args[0] === 'run' ? args[1] : args[0];
        if (!['ci', 'install', 'pack', 'run'].includes(script) && !PKG.scripts[script]) problems.push(`README.md: npm ${script} is not a script in package.json`);
      }
    }
    // Flags named in the prose (`--json`, `--url`, ...) exist in at least one binary.
    const known = new Set(Object.values(flagsOf).flat());
    for (const [, flag] of README.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/`[^`]*?--([a-z][\w-]*)[^`]*`/g)) {
      if (!known.has(flag)) problems.push(`README.md: no binary has the flag --${flag}`);
    }
    expect(problems).toEqual([]);
  });
});

/** Runs a command to its end; resolves with its exit code and output. */
function run(cmd: string, args: string[], cwd: string, input?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(input ?? '');
  });
}

/** A scratch project whose node_modules holds this package (as an installed tarball would) and the Agents SDK. */
function scratchProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'readme-'));
  const link = (name: string, target: string) => {
    mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
    symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  };
  link('realtime-context', REPO);
  link('@openai/agents-realtime', join(REPO, 'node_modules', '@openai', 'agents-realtime'));
  return dir;
}

describe('README examples run as written (against the built-in emulator)', () => {
  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist', 'src', 'index.js'))) throw new Error('dist/ is missing: run npm run build (npm test builds first)');
  });

  it('the CLI agent: the piped text turn gets an answer', async () => {
    const line = block('sh', 'printf').split('\n').find((l) => l.startsWith('printf') && l.includes('realtime-agent'))!;
    const command = line.replace(/\s+#.*$/, '').replace('npx realtime-agent', cliCommand().map((w) => JSON.stringify(w)).join(' '));
    const r = await run('sh', ['-c', command], scratchProject());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^assistant: \S/m);
  }, 60_000);

  it('the library: two text turns, their answers, the window and a summary', async () => {
    const dir = scratchProject();
    writeFileSync(join(dir, 'agent.mjs'), block('js', 'createRealtimeAgent'));
    const r = await run(process.execPath, ['agent.mjs'], dir);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^\[user\] Can you tell me a quick story\?$/m);
    expect(r.out).toMatch(/^\[assistant\] \S/m);
    expect(r.out).toMatch(/^window \d+ \/ 300 tokens, \$\d/m);
    // Past the trigger the two exchanges are folded: the summary item, then the line the example prints.
    expect(r.out).toMatch(/^\[system\] \S/m);
    expect(r.out).toMatch(/^summary of 2 turns: window \d+ -> about \d+$/m);
  }, 60_000);

  it('the proxy: the Agents SDK client gets an answer through realtime-proxy', async () => {
    const dir = scratchProject();
    const entry = join(REPO, 'dist', 'src', 'proxy', 'cli.js');
    const proxy = spawn(process.execPath, [entry, '--port', '0', '--no-journal'], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let seen = '';
        const onData = (d: Buffer) => {
          seen += d.toString();
          const m = /listening on (ws:\/\/127\.0\.0\.1:\d+)\//.exec(seen);
          if (m) resolve(m[1]);
        };
        proxy.stdout.on('data', onData);
        proxy.stderr.on('data', onData);
        proxy.on('exit', (code) => reject(new Error(`realtime-proxy exited ${code}: ${seen}`)));
      });
      const client = block('js', 'RealtimeSession');
      expect(client).toContain('ws://127.0.0.1:8787/');
      writeFileSync(join(dir, 'client.mjs'), client.replace('ws://127.0.0.1:8787', url));
      const r = await run(process.execPath, ['client.mjs'], dir);
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/^assistant: \S/m);
    } finally {
      proxy.kill('SIGTERM');
    }
  }, 60_000);
});
