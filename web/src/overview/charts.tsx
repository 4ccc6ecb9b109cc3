/**
 * The overview's charts, drawn as plain SVG: columns over time (launches and completions per
 * hour) and horizontal bars per name (CPU-hours, wait times). Two shapes, no interaction, so a
 * chart library would bring more code than these two components; SVG also scales to any width,
 * keeps to the page's colours (CSS variables, dark mode included) and needs nothing that
 * repo-api's Content-Security-Policy forbids. Each chart carries its figures as a table for
 * screen readers (and a summary as its accessible name).
 */
import { useLayoutEffect, useRef } from 'react';

export interface Series {
  name: string;
}

/** Round numbers for an axis: the smallest of 1, 2, 5 × 10^n at or above `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function Legend({ series }: { series: Series[] }) {
  if (series.length < 2) return null;
  return (
    <ul className="chart-legend" aria-hidden="true">
      {series.map((one, index) => (
        <li key={one.name}>
          <span className={`swatch series-${index}`} /> {one.name}
        </li>
      ))}
    </ul>
  );
}

/** The chart's figures, for screen readers: a row per point or name, a column per series. */
function DataTable({ caption, series, rows }: { caption: string; series: Series[]; rows: Array<{ label: string; cells: string[] }> }) {
  const head = ['', ...series.map((one) => one.name)];
  // In a hidden box rather than a hidden table: a table grows to its content whatever its width.
  return (
    <div className="visually-hidden">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {head.map((cell) => (
              <th key={cell} scope="col">
                {cell}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={`${row.label}-${index}`}>
              <th scope="row">{row.label}</th>
              {row.cells.map((cell, cellIndex) => (
                <td key={cellIndex}>{cell}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export interface ColumnPoint {
  /** The column group's label under the axis (shown for every `labelEvery`th group). */
  label: string;
  values: number[];
}

/** Grouped columns along a time axis, one colour per series. */
export function ColumnChart({
  title,
  summary,
  series,
  points,
  labelEvery = 1,
}: {
  title: string;
  summary: string;
  series: Series[];
  points: ColumnPoint[];
  labelEvery?: number;
}) {
  // Drawn for the full width of a page (the text keeps about its size there).
  const width = 960;
  const height = 220;
  const left = 40;
  const bottom = 24;
  const top = 8;
  const plotHeight = height - top - bottom;
  const max = niceMax(Math.max(0, ...points.flatMap((point) => point.values)));
  const groupWidth = (width - left) / Math.max(1, points.length);
  const barWidth = Math.max(1, (groupWidth * 0.8) / Math.max(1, series.length));
  const y = (value: number) => top + plotHeight - (value / max) * plotHeight;
  const ticks = [0, max / 2, max];
  // On a screen narrower than the chart it scrolls sideways; the newest hours are what is asked
  // about, so it opens at its right end rather than at the oldest (mostly empty) hours.
  const frame = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const box = frame.current;
    if (box) box.scrollLeft = box.scrollWidth;
  }, [points.length]);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <Legend series={series} />
      <div className="chart-scroll" ref={frame}>
        <svg className="columns" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${summary}`}>
          {ticks.map((tick) => (
            <g key={tick} className="chart-grid">
              <line x1={left} x2={width} y1={y(tick)} y2={y(tick)} />
              <text x={left - 6} y={y(tick)} textAnchor="end" dominantBaseline="middle">
                {Number.isInteger(tick) ? tick : tick.toFixed(1)}
              </text>
            </g>
          ))}
          {points.map((point, index) => {
            const x0 = left + index * groupWidth + groupWidth * 0.1;
            return (
              <g key={`${point.label}-${index}`}>
                {point.values.map((value, seriesIndex) => (
                  <rect
                    key={seriesIndex}
                    className={`bar series-${seriesIndex}`}
                    data-series={series[seriesIndex]?.name}
                    data-value={value}
                    x={x0 + seriesIndex * barWidth}
                    y={y(value)}
                    width={barWidth}
                    height={Math.max(0, top + plotHeight - y(value))}
                  >
                    <title>{`${point.label}: ${value} ${series[seriesIndex]?.name ?? ''}`.trim()}</title>
                  </rect>
                ))}
                {index % labelEvery === 0 && (
                  <text className="chart-axis" x={left + index * groupWidth + groupWidth / 2} y={height - 6} textAnchor="middle">
                    {point.label}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <DataTable
        caption={title}
        series={series}
        rows={points.map((point) => ({ label: point.label, cells: point.values.map(String) }))}
      />
    </figure>
  );
}

export interface BarGroup {
  label: string;
  values: number[];
  /** How each value reads (`2.5 CPU-hours`, `1m 20s`); the number itself when absent. */
  texts?: string[];
}

/** One row per name, with one horizontal bar per series; the figure is written beside each bar. */
export function BarList({
  title,
  summary,
  series,
  groups,
  empty,
}: {
  title: string;
  summary: string;
  series: Series[];
  groups: BarGroup[];
  /** What to say when there is nothing to draw. */
  empty: string;
}) {
  const max = Math.max(0, ...groups.flatMap((group) => group.values));
  const rowHeight = 18;
  const gap = 10;
  // Drawn for half a page's width: two of these sit side by side.
  const labelWidth = 150;
  const valueWidth = 120;
  const width = 480;
  const barSpace = width - labelWidth - valueWidth;
  const groupHeight = series.length * rowHeight + gap;
  const height = Math.max(groupHeight, groups.length * groupHeight);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {groups.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <>
          <Legend series={series} />
          <div className="chart-scroll">
            <svg className="bars" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}: ${summary}`}>
              {groups.map((group, groupIndex) => {
                const y0 = groupIndex * groupHeight;
                return (
                  <g key={group.label} data-label={group.label}>
                    <text className="chart-label" x={labelWidth - 8} y={y0 + (series.length * rowHeight) / 2} textAnchor="end" dominantBaseline="middle">
                      {group.label.length > 22 ? `${group.label.slice(0, 21)}…` : group.label}
                    </text>
                    {group.values.map((value, seriesIndex) => {
                      const barWidth = max > 0 ? Math.max(value > 0 ? 2 : 0, (value / max) * barSpace) : 0;
                      const text = group.texts?.[seriesIndex] ?? String(value);
                      const y = y0 + seriesIndex * rowHeight;
                      return (
                        <g key={seriesIndex}>
                          <rect
                            className={`bar series-${seriesIndex}`}
                            data-series={series[seriesIndex]?.name}
                            data-value={value}
                            x={labelWidth}
                            y={y + 2}
                            width={barWidth}
                            height={rowHeight - 4}
                          >
                            <title>{`${group.label}: ${text}${series.length > 1 ? ` (${series[seriesIndex]?.name})` : ''}`}</title>
                          </rect>
                          <text className="chart-value" x={labelWidth + barWidth + 6} y={y + rowHeight / 2} dominantBaseline="middle">
                            {text}
                          </text>
                        </g>
                      );
                    })}
                  </g>
                );
              })}
            </svg>
          </div>
          <DataTable
            caption={title}
            series={series}
            rows={groups.map((group) => ({ label: group.label, cells: group.values.map((value, index) => group.texts?.[index] ?? String(value)) }))}
          />
        </>
      )}
    </figure>
  );
}
