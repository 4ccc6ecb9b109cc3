import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { BarList, ColumnChart, niceMax } from './charts.tsx';
import { cpuTimeFormat } from './overview-page.tsx';

describe('the overview charts', () => {
  it('round the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.3, 1, 3, 7, 12, 180, 1001].map(niceMax)).toEqual([1, 0.5, 1, 5, 10, 20, 200, 2000]);
  });

  it('draw one column per hour and series, scaled to the largest, with the figures as a table', () => {
    const { container } = render(
      <ColumnChart
        title="Per hour"
        summary="3 launches"
        series={[{ name: 'launches' }, { name: 'completions' }]}
        points={[{ label: '09:00', values: [1, 0] }, { label: '10:00', values: [2, 4] }]}
      />,
    );
    expect(screen.getByRole('img', { name: 'Per hour: 3 launches' })).toBeInTheDocument();
    const bars = [...container.querySelectorAll('rect.bar')];
    expect(bars.map((bar) => [bar.getAttribute('data-series'), bar.getAttribute('data-value')])).toEqual([
      ['launches', '1'], ['completions', '0'], ['launches', '2'], ['completions', '4'],
    ]);
    // The tallest column fills the plot (axis max 5 for a largest value of 4).
    const heights = bars.map((bar) => Number(bar.getAttribute('height')));
    expect(heights[3]! / heights[2]!).toBeCloseTo(2);
    // The hours under the axis and the axis's round figures (0, half, max) beside it.
    const svg = container.querySelector('svg.columns')!;
    const texts = [...svg.querySelectorAll('text')].map((text) => text.textContent);
    expect(texts).toEqual(expect.arrayContaining(['09:00', '10:00', '0', '2.5', '5']));
    const table = screen.getByRole('table', { name: 'Per hour' });
    expect(within(table).getByRole('row', { name: '10:00 2 4' })).toBeInTheDocument();
  });

  it('draw a bar per name with its figure written beside it, or say there is nothing', () => {
    const { container, rerender } = render(
      <BarList
        title="CPU-hours"
        summary="8 in all"
        series={[{ name: 'CPU-hours' }]}
        groups={[{ label: 'lab/sim', values: [6], texts: ['6.00 CPU-h'] }, { label: 'lab/app', values: [2], texts: ['2.00 CPU-h'] }]}
        empty="Nothing yet."
      />,
    );
    const widths = [...container.querySelectorAll('rect.bar')].map((bar) => Number(bar.getAttribute('width')));
    expect(widths[0]! / widths[1]!).toBeCloseTo(3);
    expect(screen.getAllByText('6.00 CPU-h').length).toBeGreaterThan(0);
    // Each name is written beside its row, level with its bar.
    const row = container.querySelector('g[data-label="lab/app"]')!;
    const name = within(row as HTMLElement).getByText('lab/app');
    const bar = row.querySelector('rect.bar')!;
    expect(Number(name.getAttribute('y'))).toBeCloseTo(Number(bar.getAttribute('y')) + Number(bar.getAttribute('height')) / 2);
    // A name longer than its room (150 px here, about 7 px a character where text cannot be
    // measured) is cut with an ellipsis; it is whole in its tooltip, its row's label and the table.
    const long = 'computational-neuroscience-lab/whole-brain-simulation';
    rerender(
      <BarList title="CPU-hours" summary="" series={[{ name: 'CPU-hours' }]} groups={[{ label: long, values: [3], texts: ['3.00 CPU-h'] }]} empty="Nothing yet." />,
    );
    const longRow = container.querySelector(`g[data-label="${long}"]`)!;
    const cut = longRow.querySelector('text.chart-label')!;
    expect(cut.textContent).toBe('computational-neuro…');
    expect(cut.textContent!.length * 7 + 8).toBeLessThanOrEqual(Number(longRow.querySelector('rect.bar')!.getAttribute('x')));
    expect(longRow.querySelector('title')!.textContent).toContain(long);
    expect(within(screen.getByRole('table', { name: 'CPU-hours' })).getByRole('rowheader', { name: long })).toBeInTheDocument();
    rerender(<BarList title="CPU-hours" summary="" series={[{ name: 'CPU-hours' }]} groups={[]} empty="Nothing yet." />);
    expect(screen.getByText('Nothing yet.')).toBeInTheDocument();
    expect(container.querySelector('svg')).toBeNull();
  });
});

describe('CPU time on the usage charts', () => {
  it('reads in one unit per chart, hours unless the largest figure is under an hour', () => {
    const hours = cpuTimeFormat(12.34);
    expect([hours(12.34), hours(2.25), hours(0.004)]).toEqual(['12 CPU-h', '2.3 CPU-h', '0 CPU-h']);
    const minutes = cpuTimeFormat(0.5);
    expect([minutes(0.5), minutes(0.01)]).toEqual(['30 CPU-min', '0.6 CPU-min']);
    expect(cpuTimeFormat(0.0089)(0.0078)).toBe('28 CPU-s');
  });
});
