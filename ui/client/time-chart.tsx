/**
 * A chart of series over time, drawn by uPlot (canvas, a few tens of KB): a time x axis, a y axis labelled with its
 * unit, a legend naming every series, gaps where a value is null (no sample). It takes its container's width and
 * follows it (ResizeObserver), so that it reads on a phone as on a desktop.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css' with { type: 'text' };
import { adoptStyles } from './page-styles.js';

adoptStyles(uplotCss);

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  colour: string;
  /** Dashed, for a bound drawn beside what fills it (a total beside its allocated). */
  dashed?: boolean;
}

interface TimeChartProps {
  title: string;
  /** The y axis' label, with its unit: "CPUs", "jobs / min". */
  unit: string;
  /** Each point's time, unix seconds. */
  times: number[];
  series: ChartSeries[];
  /** How a y value is written in the legend; a plain number by default (the axis' ticks are plain numbers). */
  format?: (value: number) => string;
  height?: number;
}

const MIN_WIDTH = 200;

export function TimeChart({ title, unit, times, series, format, height = 220 }: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | undefined>(undefined);
  const shape = `${unit}|${series.map((one) => `${one.label}:${one.colour}:${one.dashed ?? false}`).join('|')}`;

  // Made again when the series change in kind; only given new data otherwise (each refresh).
  useEffect(() => {
    const element = box.current!;
    const width = () => Math.max(MIN_WIDTH, element.clientWidth);
    const written = (value: number | null) => (value === null ? '—' : format ? format(value) : String(value));
    const made = new uPlot(
      {
        width: width(),
        height,
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [
          { label: 'time', labelSize: 18, size: 40 },
          {
            label: unit,
            labelSize: 18,
            size: 56,
            values: (_u, ticks) => ticks.map((tick) => String(Math.round(tick * 100) / 100)),
          },
        ],
        series: [
          {},
          ...series.map((one) => ({
            label: one.label,
            stroke: one.colour,
            width: 2,
            ...(one.dashed ? { dash: [6, 4] } : {}),
            value: (_u: uPlot, value: number | null) => written(value),
            // A lone sample between gaps is a point: a line needs two.
            points: { show: true, size: 6 },
          })),
        ],
      },
      [times, ...series.map((one) => one.values)],
      element,
    );
    chart.current = made;
    const observer = new ResizeObserver(() => made.setSize({ width: width(), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      made.destroy();
      chart.current = undefined;
    };
  }, [shape, height]);

  useEffect(() => {
    chart.current?.setData([times, ...series.map((one) => one.values)]);
  }, [times, series]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}
