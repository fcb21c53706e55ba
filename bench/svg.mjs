/** Hand-written SVG charts for the benchmark report: grouped bars and step lines, no dependencies. */

const W = 720;
const H = 360;
const M = { top: 44, right: 20, bottom: 56, left: 64 };
const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1"];
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toFixed(Math.abs(v) >= 10 ? 1 : 2))));

/** A "nice" axis maximum and step for values up to `max`. */
function niceScale(max, ticks = 5) {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  return { top: Math.ceil(max / step) * step, step };
}

function frame({ title, yLabel, xLabel, top, step, plot }) {
  const ih = H - M.top - M.bottom;
  const y = (v) => M.top + ih - (v / top) * ih;
  const grid = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    grid.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e3e3e3"/>`);
    grid.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12" fill="#333">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>
${grid.join("\n")}
<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ih}" stroke="#999"/>
<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + ih}" y2="${M.top + ih}" stroke="#999"/>
<text transform="translate(16 ${M.top + ih / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>
${plot(y)}
</svg>
`;
}

function legend(names) {
  return names
    .map((name, i) => {
      const x = M.left + 10 + i * 170;
      return `<rect x="${x}" y="${M.top - 16}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 17}" y="${M.top - 6}">${esc(name)}</text>`;
    })
    .join("\n");
}

/** Grouped bars: `groups` along x (labels), one bar per series in each group, values labelled. */
export function barChart({ title, yLabel, xLabel = "", groups, series }) {
  const max = Math.max(...series.flatMap((s) => s.values.filter(Number.isFinite)));
  const { top, step } = niceScale(max * 1.1);
  const iw = W - M.left - M.right;
  const gw = iw / groups.length;
  const bw = Math.min(48, (gw * 0.75) / series.length);
  return frame({
    title,
    yLabel,
    xLabel,
    top,
    step,
    plot: (y) => {
      const out = [legend(series.map((s) => s.name))];
      groups.forEach((g, gi) => {
        const x0 = M.left + gi * gw + (gw - bw * series.length) / 2;
        series.forEach((s, si) => {
          const v = s.values[gi];
          if (!Number.isFinite(v)) return;
          const x = x0 + si * bw;
          out.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(y(0) - y(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`);
          out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(v)}</text>`);
        });
        out.push(`<text x="${(M.left + gi * gw + gw / 2).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${esc(g)}</text>`);
      });
      return out.join("\n");
    },
  });
}

/**
 * Step lines over a numeric x axis: each series is [[x, y], …] drawn as per-interval levels;
 * `limits` are dashed horizontal lines (e.g. a rate limit).
 */
export function stepChart({ title, yLabel, xLabel, series, limits = [] }) {
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const xmax = Math.max(1, ...xs) + 1;
  const ymax = Math.max(...series.flatMap((s) => s.points.map((p) => p[1])), ...limits.map((l) => l.value));
  const { top, step } = niceScale(ymax * 1.15);
  const iw = W - M.left - M.right;
  const x = (v) => M.left + (v / xmax) * iw;
  return frame({
    title,
    yLabel,
    xLabel,
    top,
    step,
    plot: (y) => {
      const out = [legend(series.map((s) => s.name))];
      const xStep = niceScale(xmax, 8).step;
      for (let v = 0; v <= xmax; v += xStep) out.push(`<text x="${x(v).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(v)}</text>`);
      series.forEach((s, i) => {
        const d = s.points.map(([px, py], j) => `${j === 0 ? "M" : "L"}${x(px).toFixed(1)},${y(py).toFixed(1)} L${x(px + 1).toFixed(1)},${y(py).toFixed(1)}`).join(" ");
        out.push(`<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`);
      });
      limits.forEach((l, i) => {
        out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(l.value).toFixed(1)}" y2="${y(l.value).toFixed(1)}" stroke="${COLORS[i % COLORS.length]}" stroke-dasharray="6 4"/>`);
        out.push(`<text x="${W - M.right - 4}" y="${(y(l.value) - 4).toFixed(1)}" text-anchor="end" font-size="11">${esc(l.label)}</text>`);
      });
      return out.join("\n");
    },
  });
}

/** Sends per one-second bin, from millisecond offsets (the first send at 0). */
export function perSecond(offsetsMs) {
  const bins = [];
  for (const t of offsetsMs) {
    const b = Math.floor(t / 1000);
    bins[b] = (bins[b] ?? 0) + 1;
  }
  return Array.from(bins, (n, i) => [i, n ?? 0]);
}
