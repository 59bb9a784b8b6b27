import type { ReactNode } from 'react';
import { ScrollFrame } from '../../layout/ScrollFrame';

interface Props<T extends { line: number }> {
  /** The table's and each row's test ids. */
  testId: string;
  rowTestId: string;
  caption: ReactNode;
  /** The second column's heading. */
  what: string;
  rows: readonly T[];
  /** What the row says about its line. */
  cell: (row: T) => ReactNode;
}

/** Rows of a file listed by line, as the import review shows refused and flagged ones. */
export function LinesTable<T extends { line: number }>({ testId, rowTestId, caption, what, rows, cell }: Props<T>) {
  return (
    <ScrollFrame label={`Lines: ${what}`} className="table-wrap errors-wrap">
      <table data-testid={testId}>
        <caption className="muted small">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" className="num">
              Line
            </th>
            <th scope="col">{what}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.line} data-testid={rowTestId} data-line={r.line}>
              <td className="num">{r.line}</td>
              <td className="wrap">{cell(r)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollFrame>
  );
}
