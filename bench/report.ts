import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { format, resolveConfig } from 'prettier';

/** One line of the table. `met` is left undefined where there is no target. */
export interface Figure {
  figure: string;
  result: string;
  target?: string;
  met?: boolean;
}

export interface Report {
  figures: Figure[];
  quick: boolean;
  command: string;
  machine: string;
  commit: string;
  loadAverage: [number, number];
  threadPoolSize: number;
  settings: string;
  minutes: number;
}

const BEGIN = '<!-- bench:begin (written by `npm run bench`; edit around it) -->';
const END = '<!-- bench:end -->';

/** The run as Markdown: what ran where, then one table. */
export function renderReport(report: Report): string {
  const rows = report.figures.map(
    (f) =>
      `| ${f.figure} | ${f.result} | ${f.target ?? ''} | ${f.met === undefined ? '' : f.met ? 'met' : '**missed**'} |`,
  );
  return [
    `Run of ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (quick: a smoke test of the bench, not a measure)' : ''}, ${report.minutes.toFixed(1)} min.`,
    '',
    `- command: \`${report.command}\``,
    `- machine: ${report.machine}`,
    `- commit: ${report.commit}`,
    `- load average (1 min) before / after: ${report.loadAverage.map((v) => v.toFixed(2)).join(' / ')}`,
    `- service: libuv pool of ${report.threadPoolSize} threads; ${report.settings}`,
    '',
    '| figure | result | target | |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/**
 * Writes the report between the markers of `file` (creating it when missing), formatted as
 * `npm run lint` wants it.
 */
export async function writeReport(file: string, report: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const block = `${BEGIN}\n\n${report}\n\n${END}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    begin >= 0 && end > begin
      ? current.slice(0, begin) + block + current.slice(end + END.length)
      : `${current || '# Performance\n'}\n${block}\n`;
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(next, { ...options, filepath: file }));
}
