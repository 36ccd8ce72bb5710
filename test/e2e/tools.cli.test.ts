// `realtime-agent --tools`: the real binary, the embedded emulator, examples/tools.mjs. Nothing mocked.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { helpText } from '../../src/cli/args.js';
import { runCli } from '../helpers/cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'rtc-tools-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The oracle: what get_time must say for Tokyo now, or a minute ago (the run takes a moment). */
function tokyoTimes(): string[] {
  const f = (d: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  const now = new Date();
  return [f(now), f(new Date(now.getTime() - 60_000)), f(new Date(now.getTime() - 120_000))];
}

describe('realtime-agent --tools', () => {
  it("printf 'What time is it in Tokyo?\\n/quit\\n' | realtime-agent --input text --output text --tools examples/tools.mjs: the call, then a reply with its result", async () => {
    const r = await runCli(['--input', 'text', '--output', 'text', '--tools', 'examples/tools.mjs', '--no-journal'], { stdin: 'What time is it in Tokyo?\n/quit\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('tools: get_time, convert_units');
    const result = lines.find((l) => l.startsWith('tool get_time({"city":"Tokyo"}) -> '));
    expect(result, r.stdout).toBeDefined();
    const m = /^tool get_time\(\{"city":"Tokyo"\}\) -> (\{.*\}) \[(\d+) ms\]$/.exec(result!);
    expect(m, result).not.toBeNull();
    const out = JSON.parse(m![1]) as { timeZone: string; time: string };
    expect(out.timeZone).toBe('Asia/Tokyo');
    expect(tokyoTimes()).toContain(out.time);
    // The model's reply carries the tool's output, after the call line.
    const reply = lines.findIndex((l) => l === `assistant: get_time returned ${m![1]}.`);
    expect(reply, r.stdout).toBeGreaterThan(lines.indexOf(result!));
  });

  it('--json prints tool.call and one tool line per call (name, arguments, output, durationMs); the journal holds the call', async () => {
    const journal = join(dir, 'j.jsonl');
    const r = await runCli(['--input', 'text', '--output', 'text', '--tools', 'examples/tools.mjs', '--json', '--journal', journal], { stdin: 'Please convert 5 km to miles\n' });
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const call = events.find((e) => e.type === 'tool.call');
    const tool = events.find((e) => e.type === 'tool');
    expect(call).toMatchObject({ name: 'convert_units', arguments: '{"value":5,"from":"km","to":"miles"}' });
    expect(tool).toMatchObject({ name: 'convert_units', status: 'done', error: null, callId: call!.callId });
    // 5 km = 5000 m / 1609.344 m per mile = 3.107 miles (rounded to 3 decimals by the tool).
    expect(JSON.parse(tool!.output as string).result).toBe(3.107);
    expect(typeof tool!.durationMs).toBe('number');
    const j = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(j.find((l) => l.type === 'tool')).toMatchObject({ name: 'convert_units', callId: call!.callId, output: tool!.output });
  });

  it('a failing tool is shown with its error and the session goes on', async () => {
    const file = join(dir, 'failing.mjs');
    writeFileSync(file, `export default [{ name: 'get_stock', description: 'price', execute() { throw new Error('market closed'); } }];\n`);
    const r = await runCli(['--input', 'text', '--output', 'text', '--tools', file, '--no-journal', '--no-color'], { stdin: 'What is the stock price?\nThanks\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tool get_stock\(\{\}\) failed: get_stock failed: market closed \[\d+ ms\]$/m);
    expect(r.stdout).toContain('assistant: get_stock returned {"error":"get_stock failed: market closed"}.');
    expect(r.stdout).toContain('you: Thanks');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['missing', '', /^realtime-agent: --tools .*missing\.mjs: no such file \(give the path of an ES module, e\.g\. examples\/tools\.mjs\)$/],
    ['not-a-list', 'export default { name: "x" };', /: the default export must be an array of tools/],
    ['bad-name', 'export default [{ name: "no spaces allowed", execute() {} }];', /: tool 1 has an invalid name "no spaces allowed": use 1-64 letters, digits, _ or -$/],
    ['syntax', 'export default [', /: cannot load the module \(.*\): it must be an ES module/],
  ];
  it.each(bad)('a bad --tools file (%s) is a one-line usage error, exit 2', async (name, body, msg) => {
    const file = join(dir, `${name}.mjs`);
    if (body) writeFileSync(file, body);
    const r = await runCli(['--input', 'text', '--output', 'text', '--tools', file, '--no-journal']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(msg);
  });

  it('--help lists --tools', () => {
    expect(helpText('0.0.0')).toMatch(/--tools FILE\.mjs +ES module whose default export is the list of tools/);
  });
});
