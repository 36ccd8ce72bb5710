// A hand-written SVG line chart: window tokens over conversation time, one polyline per policy.
export interface Series {
  name: string;
  color: string;
  /** [minutes, tokens] */
  points: Array<[number, number]>;
  dash?: string;
}

export function lineChart(o: { title: string; series: Series[]; xMax: number; yMax: number; hLines?: Array<{ y: number; label: string }>; xLabel: string; yLabel: string }): string {
  const W = 860;
  const rows = Math.ceil(o.series.length / 2);
  const H = 420 + rows * 18;
  const m = { l: 70, r: 20, t: 40, b: 50 + rows * 18 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const x = (v: number) => m.l + (v / o.xMax) * pw;
  const y = (v: number) => m.t + ph - (v / o.yMax) * ph;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  const yStep = niceStep(o.yMax / 6);
  for (let v = 0; v <= o.yMax + 1e-9; v += yStep) {
    parts.push(`<line x1="${m.l}" y1="${y(v).toFixed(1)}" x2="${W - m.r}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toLocaleString('en-US')}</text>`);
  }
  const xStep = niceStep(o.xMax / 8);
  for (let v = 0; v <= o.xMax + 1e-9; v += xStep) {
    parts.push(`<line x1="${x(v).toFixed(1)}" y1="${m.t}" x2="${x(v).toFixed(1)}" y2="${m.t + ph}" stroke="#f3f3f3"/>`);
    parts.push(`<text x="${x(v).toFixed(1)}" y="${m.t + ph + 16}" text-anchor="middle">${v}</text>`);
  }
  parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${W - m.r}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 34}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text x="16" y="${m.t + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.t + ph / 2})">${esc(o.yLabel)}</text>`);
  for (const h of o.hLines ?? []) {
    parts.push(`<line x1="${m.l}" y1="${y(h.y).toFixed(1)}" x2="${W - m.r}" y2="${y(h.y).toFixed(1)}" stroke="#999" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${(y(h.y) - 5).toFixed(1)}" text-anchor="end" fill="#666">${esc(h.label)}</text>`);
  }
  for (const s of o.series) {
    const pts = s.points.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts}"/>`);
  }
  // legend, under the plot in two columns
  o.series.forEach((s, i) => {
    const ly = m.t + ph + 58 + Math.floor(i / 2) * 18;
    const lx = m.l + (i % 2) * (pw / 2);
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="3"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    parts.push(`<text x="${lx + 30}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const k of [1, 2, 2.5, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}
