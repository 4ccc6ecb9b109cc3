/**
 * The overview's charts: columns over time (launches and completions per hour) and horizontal
 * bars per name (CPU-hours, wait times). visx (issue 15) gives the scales, bars, lines and
 * groups; it renders plain SVG elements through React, so the drawing keeps to the page's colours
 * (CSS classes over CSS variables, dark mode included) and injects no stylesheet that repo-api's
 * Content-Security-Policy would have to allow. The axis labels are plain <text> placed by the
 * scales: @visx/axis draws them with @visx/text, which measures every word in a hidden element,
 * gives them a font and colour of its own, and brings a CSS-calc evaluator (about 22 kB more
 * minified script) for three numbers and a row of hours. Each chart carries its figures as a
 * table for screen readers (and a summary as its accessible name).
 */
import { useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { Group } from '@visx/group';
import { scaleBand, scaleLinear } from '@visx/scale';
import { Bar, Line } from '@visx/shape';

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
  const baseline = height - bottom;
  const max = niceMax(Math.max(0, ...points.flatMap((point) => point.values)));
  // One step per point; its columns fill the middle 80% of it.
  const x = scaleBand<number>({ domain: points.map((_, index) => index), range: [left, width], paddingInner: 0.2, paddingOuter: 0.1 });
  const inGroup = scaleBand<number>({ domain: series.map((_, index) => index), range: [0, x.bandwidth()] });
  const y = scaleLinear<number>({ domain: [0, max], range: [baseline, top] });
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
            <Group key={tick} className="chart-grid" top={y(tick)}>
              <Line from={{ x: left, y: 0 }} to={{ x: width, y: 0 }} />
              <text x={left - 6} textAnchor="end" dominantBaseline="middle">
                {Number.isInteger(tick) ? tick : tick.toFixed(1)}
              </text>
            </Group>
          ))}
          {points.map((point, index) => (
            <Group key={`${point.label}-${index}`} left={x(index)}>
              {point.values.map((value, seriesIndex) => (
                <Bar
                  key={seriesIndex}
                  className={`bar series-${seriesIndex}`}
                  data-series={series[seriesIndex]?.name}
                  data-value={value}
                  x={inGroup(seriesIndex)}
                  y={y(value)}
                  width={Math.max(1, inGroup.bandwidth())}
                  height={Math.max(0, baseline - y(value))}
                >
                  <title>{`${point.label}: ${value} ${series[seriesIndex]?.name ?? ''}`.trim()}</title>
                </Bar>
              ))}
              {index % labelEvery === 0 && (
                <text className="chart-axis" x={x.bandwidth() / 2} y={height - 6} textAnchor="middle">
                  {point.label}
                </text>
              )}
            </Group>
          ))}
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

/** The width of a box in CSS pixels, kept up to date as it resizes; `fallback` until it has one. */
function useBoxWidth(box: RefObject<HTMLElement | null>, fallback: number, active: boolean): number {
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    const update = () => {
      if (element.clientWidth > 0) setWidth(element.clientWidth);
    };
    update();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(update);
    observer.observe(element);
    return () => observer.disconnect();
  }, [box, active]);
  return width;
}

/** About how wide a character of 12px text is, until the browser has measured it (and where it cannot, as in jsdom). */
const ESTIMATED_CHARACTER_WIDTH = 7;

function estimateTextWidth(text: string): number {
  return text.length * ESTIMATED_CHARACTER_WIDTH;
}

/**
 * The svg's `<text>` elements of a class as drawn: the widest, and the most width any of them
 * takes per character (what a name cut to fit must allow for); `undefined` where text cannot be
 * measured.
 */
function measureTexts(svg: SVGSVGElement, className: string): { widest: number; perCharacter?: number } | undefined {
  const texts = [...svg.querySelectorAll<SVGTextElement>(`text.${className}`)];
  if (texts.length === 0 || texts.some((text) => typeof text.getComputedTextLength !== 'function')) return undefined;
  const drawn = texts.map((text) => ({ width: text.getComputedTextLength(), characters: text.textContent?.length ?? 0 }));
  const written = drawn.filter((text) => text.characters > 0);
  return {
    widest: Math.max(...drawn.map((text) => text.width)),
    perCharacter: written.length > 0 ? Math.max(...written.map((text) => text.width / text.characters)) : undefined,
  };
}

/**
 * One row per name, with one horizontal bar per series; the figure is written beside each bar.
 * It is drawn at the width of its frame, one unit a CSS pixel so its text keeps its size, and the
 * bars' scale ends where the widest figure still fits inside the frame: on a phone the figure of
 * the longest bar is not cut off at the frame's edge.
 */
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
  const labelGap = 8;
  const valueGap = 6;
  // Half a page's width (two of these sit side by side) until the frame's own width is known.
  const frame = useRef<HTMLDivElement>(null);
  const svg = useRef<SVGSVGElement>(null);
  const frameWidth = useBoxWidth(frame, 480, groups.length > 0);
  // The widest name and figure as the browser draws them (a guess from their length before that),
  // and the most a character of a name takes.
  const [measured, setMeasured] = useState<{ label?: number; value?: number; character?: number }>({});
  // The names get at most 150, at most 40% of the frame; the bars keep the rest. A longer name is
  // cut, with an ellipsis, to what fits (it is whole in its tooltip and in the table).
  const labelRoom = Math.min(150, Math.max(60, Math.round(frameWidth * 0.4))) - labelGap;
  const fittingCharacters = Math.max(4, Math.floor(labelRoom / (measured.character ?? ESTIMATED_CHARACTER_WIDTH)));
  const labelOf = (group: BarGroup) =>
    group.label.length > fittingCharacters ? `${group.label.slice(0, fittingCharacters - 1)}…` : group.label;
  const textOf = (group: BarGroup, seriesIndex: number) => group.texts?.[seriesIndex] ?? String(group.values[seriesIndex]);
  const labelKey = groups.map(labelOf).join('\n');
  const valueKey = groups.flatMap((group) => group.values.map((_, index) => textOf(group, index))).join('\n');
  useLayoutEffect(() => {
    const drawing = svg.current;
    if (!drawing) return;
    const labels = measureTexts(drawing, 'chart-label');
    const label = labels?.widest;
    const value = measureTexts(drawing, 'chart-value')?.widest;
    setMeasured((old) => {
      // Only ever wider: cutting names by a width that shrank again could go back and forth.
      const character = labels?.perCharacter === undefined ? old.character : Math.max(old.character ?? 0, labels.perCharacter);
      return old.label === label && old.value === value && old.character === character ? old : { label, value, character };
    });
  }, [labelKey, valueKey]);
  const widestLabel = measured.label ?? Math.max(0, ...groups.map((group) => estimateTextWidth(labelOf(group))));
  const widestValue =
    measured.value ?? Math.max(0, ...groups.flatMap((group) => group.values.map((_, index) => estimateTextWidth(textOf(group, index)))));
  // The bars keep at least `minBars` of the width; the names give way first, and only a frame too
  // narrow for a name, a short bar and a figure scrolls.
  const minBars = 40;
  const valueWidth = Math.ceil(widestValue) + valueGap + 2;
  const labelWidth = Math.min(labelRoom, Math.ceil(widestLabel)) + labelGap;
  const width = Math.max(frameWidth, labelWidth + minBars + valueWidth);
  const groupHeight = series.length * rowHeight + gap;
  const height = Math.max(groupHeight, groups.length * groupHeight);
  // A step of `groupHeight` per name, half the gap above and below its rows; within it a step of
  // `rowHeight` per series, each bar inset by 2 on either side.
  const names = scaleBand<number>({
    domain: groups.map((_, index) => index),
    range: [0, groups.length * groupHeight],
    paddingInner: gap / groupHeight,
    paddingOuter: gap / groupHeight / 2,
  });
  const rows = scaleBand<number>({
    domain: series.map((_, index) => index),
    range: [0, names.bandwidth()],
    paddingInner: 4 / rowHeight,
    paddingOuter: 2 / rowHeight,
  });
  const x = scaleLinear<number>({ domain: [0, max > 0 ? max : 1], range: [labelWidth, width - valueWidth] });
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {groups.length === 0 ? (
        <p className="muted">{empty}</p>
      ) : (
        <>
          <Legend series={series} />
          <div className="chart-scroll" ref={frame}>
            <svg
              ref={svg}
              className="bars"
              width={width}
              height={height}
              viewBox={`0 0 ${width} ${height}`}
              role="img"
              aria-label={`${title}: ${summary}`}
            >
              {groups.map((group, groupIndex) => (
                <Group key={group.label} top={names(groupIndex)} data-label={group.label}>
                  <text className="chart-label" x={labelWidth - labelGap} y={names.bandwidth() / 2} textAnchor="end" dominantBaseline="middle">
                    {labelOf(group)}
                  </text>
                  {group.values.map((value, seriesIndex) => {
                    // A figure above zero keeps a sliver of a bar, however small beside the largest.
                    const barWidth = max > 0 ? Math.max(value > 0 ? 2 : 0, x(value) - labelWidth) : 0;
                    const text = textOf(group, seriesIndex);
                    const rowTop = rows(seriesIndex) ?? 0;
                    return (
                      <g key={seriesIndex}>
                        <Bar
                          className={`bar series-${seriesIndex}`}
                          data-series={series[seriesIndex]?.name}
                          data-value={value}
                          x={labelWidth}
                          y={rowTop}
                          width={barWidth}
                          height={rows.bandwidth()}
                        >
                          <title>{`${group.label}: ${text}${series.length > 1 ? ` (${series[seriesIndex]?.name})` : ''}`}</title>
                        </Bar>
                        <text className="chart-value" x={labelWidth + barWidth + valueGap} y={rowTop + rows.bandwidth() / 2} dominantBaseline="middle">
                          {text}
                        </text>
                      </g>
                    );
                  })}
                </Group>
              ))}
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
