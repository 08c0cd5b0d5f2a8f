/**
 * How results are shown: tables in Slurm's style for people (cli-table3, no borders, as squeue and sinfo print),
 * JSON for scripts (`--json`: the API's objects as they came), states in colour on a terminal (picocolors, which
 * honours NO_COLOR and FORCE_COLOR).
 */
import Table from 'cli-table3';
import pc from 'picocolors';

const PLAIN = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** A table with a header row and left-aligned columns, as squeue prints. */
export function table(head: string[], rows: (string | number)[][]): string {
  const out = new Table({
    head,
    chars: PLAIN,
    // cli-table3's own colours do not look at the terminal: bold only when picocolors would colour.
    style: { head: pc.isColorSupported ? ['bold'] : [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  out.push(...rows.map((row) => row.map(String)));
  // No padding after the last column, as squeue prints none: a wide cell below would leave the header ending in
  // spaces that a script splitting on whitespace reads as one more column.
  return out
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

const STATE_COLOURS: Record<string, (text: string) => string> = {
  PENDING: pc.yellow,
  RUNNING: pc.cyan,
  COMPLETED: pc.green,
  FAILED: pc.red,
  TIMEOUT: pc.red,
  OUT_OF_MEMORY: pc.red,
  NODE_FAIL: pc.red,
  CANCELLED: pc.magenta,
  UP: pc.green,
  DRAINING: pc.yellow,
  DOWN: pc.red,
};

/** A state word in its colour (the colour only: the text is the same with colours off). */
export function coloured(state: string, text = state): string {
  return (STATE_COLOURS[state] ?? ((plain: string) => plain))(text);
}
