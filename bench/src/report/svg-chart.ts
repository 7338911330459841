/** One line of the chart. */
export interface ChartSeries {
  label: string;
  points: { x: number; y: number }[];
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { top: 48, right: 150, bottom: 56, left: 72 };
const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A step of 1, 2 or 5 × 10^n giving about five gridlines up to `max`. */
function niceStep(max: number): number {
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(rough, 1e-9)));
  const normalised = rough / magnitude;
  return (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10) * magnitude;
}

/**
 * A line chart as standalone SVG, written by hand (no dependency): one x position per distinct x
 * value (concurrency levels are categories, evenly spaced), a linear y axis from 0.
 */
export function lineChartSvg(title: string, xLabel: string, yLabel: string, series: ChartSeries[]): string {
  const xs = [...new Set(series.flatMap((line) => line.points.map((point) => point.x)))].sort(
    (a, b) => a - b,
  );
  const maxY = Math.max(1, ...series.flatMap((line) => line.points.map((point) => point.y)));
  const step = niceStep(maxY);
  const top = Math.ceil((maxY * 1.05) / step) * step;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const xAt = (x: number): number =>
    MARGIN.left + (xs.length === 1 ? plotWidth / 2 : (xs.indexOf(x) / (xs.length - 1)) * plotWidth);
  const yAt = (y: number): number => MARGIN.top + plotHeight - (y / top) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${escapeXml(title)}</text>`,
  ];
  for (let value = 0; value <= top + step / 2; value += step) {
    const y = yAt(value).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
    );
    parts.push(
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#374151">${Math.round(value)}</text>`,
    );
  }
  for (const x of xs) {
    const position = xAt(x).toFixed(1);
    parts.push(
      `<line x1="${position}" x2="${position}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight + 5}" stroke="#374151"/>`,
    );
    parts.push(
      `<text x="${position}" y="${MARGIN.top + plotHeight + 20}" text-anchor="middle" fill="#374151">${x}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#374151"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}" stroke="#374151"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 14}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
  series.forEach((line, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const points = [...line.points].sort((a, b) => a.x - b.x);
    const path = points.map((point) => `${xAt(point.x).toFixed(1)},${yAt(point.y).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2.5"/>`);
    for (const point of points) {
      const cx = xAt(point.x).toFixed(1);
      const cy = yAt(point.y).toFixed(1);
      parts.push(`<circle cx="${cx}" cy="${cy}" r="4" fill="${colour}"/>`);
      parts.push(
        `<text x="${cx}" y="${(yAt(point.y) - 9).toFixed(1)}" text-anchor="middle" fill="${colour}">${Math.round(point.y)}</text>`,
      );
    }
    const legendY = MARGIN.top + 8 + index * 22;
    const legendX = MARGIN.left + plotWidth + 20;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="2.5"/>`,
    );
    parts.push(
      `<text x="${legendX + 30}" y="${legendY}" dominant-baseline="middle">${escapeXml(line.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
