// Canonical JSON as many languages write it: keys sorted at every level, so a nested "type" (e.g.
// session.type) comes before the event's own top-level "type" (the sorted-keys frames of issue 27).
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
