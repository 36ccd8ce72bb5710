// A journal's torn tail: a crash in the middle of an append leaves the last line without its newline.
// Appending after it would glue the next entry to the fragment and damage the journal for good, so
// before an instance writes a conversation again its tail is repaired: a fragment that is not a whole
// entry is cut back to the last newline and kept in a side file (<journal>.torn-<time>); a whole entry
// that only lost its newline gets it back. Only the holder of the lease does this (nobody appends).
import { open, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';

const CHUNK = 64 * 1024;

/** Repairs the tail; returns what was done (one line for the log), or null when the tail was whole. */
export async function repairTornTail(path: string, now = new Date()): Promise<string | null> {
  const fh = await open(path, 'r+');
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return null;
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return null;
    // Find the last newline, reading backwards.
    let cut = 0;
    for (let end = size; end > 0 && cut === 0; end -= CHUNK) {
      const from = Math.max(0, end - CHUNK);
      const buf = Buffer.alloc(end - from);
      await fh.read(buf, 0, buf.length, from);
      const nl = buf.lastIndexOf(0x0a);
      if (nl >= 0) cut = from + nl + 1;
      if (from === 0) break;
    }
    const fragment = Buffer.alloc(size - cut);
    await fh.read(fragment, 0, fragment.length, cut);
    if (isWholeEntry(fragment)) {
      await fh.write('\n', size);
      return `journal ${basename(path)}: its last entry had lost its newline (a crash mid-write): newline restored`;
    }
    const side = `${path}.torn-${now.toISOString().replace(/[:.]/g, '-')}`;
    await writeFile(side, fragment, { mode: 0o600 });
    await fh.truncate(cut);
    return `journal ${basename(path)}: cut a torn last line (${fragment.length} bytes, a crash mid-write) back to the last whole entry; the cut bytes are in ${basename(side)}`;
  } finally {
    await fh.close();
  }
}

function isWholeEntry(b: Buffer): boolean {
  try {
    const v = JSON.parse(b.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}
