// Child-process entry: `worker <role>`, parameters from the parent's first IPC message; reports
// { ok, result } to the parent over IPC.
type Role = (params: never) => Promise<unknown>;

async function load(role: string): Promise<Role> {
  const [file, fn] = role.split(':');
  const mod = (await import(`./${file}.js`)) as Record<string, Role>;
  const f = mod[fn];
  if (typeof f !== 'function') throw new Error(`unknown role ${role}`);
  return f;
}

async function main(): Promise<void> {
  const [role] = process.argv.slice(2);
  const params = await new Promise<unknown>((resolve) => process.once('message', (m: { params: unknown }) => resolve(m.params)));
  try {
    const f = await load(role);
    const result = await f(params as never);
    process.send!({ ok: true, result }, () => process.exit(0));
  } catch (e) {
    process.send!({ ok: false, error: (e as Error).stack ?? String(e) }, () => process.exit(1));
  }
}

void main();
