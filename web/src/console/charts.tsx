// Chart.js, registered piece by piece (tree-shaken): bar, doughnut and interval charts for the
// dashboard and the campaign review. Every chart's numbers are also in a table beside it.
import {
  ArcElement,
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Legend,
  LinearScale,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import { useEffect, useRef } from "react";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Legend, Tooltip);

/** Colours with enough contrast on white, one per series. */
export const COLORS = ["#0a58ca", "#c7254e", "#1a7f37", "#9a6700", "#6e40c9", "#57606a"];

const reduced = () => window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;

/** A canvas drawn by Chart.js, named for screen readers by `label` (the same numbers are in a table). */
function ChartCanvas({ config, label, height }: { config: ChartConfiguration; label: string; height: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  // Drawn again only when the numbers change, not on every render.
  const sig = JSON.stringify(config.data);
  useEffect(() => {
    const chart = new Chart(ref.current!, {
      ...config,
      options: { ...config.options, responsive: true, maintainAspectRatio: false, animation: reduced() ? false : undefined },
    });
    return () => chart.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sig]);
  return (
    <div className="chart" style={{ height }}>
      <canvas ref={ref} role="img" aria-label={label} />
    </div>
  );
}

export interface Series {
  label: string;
  data: number[];
}

export function BarChart(props: { labels: string[]; series: Series[]; label: string; height?: number }) {
  const config: ChartConfiguration = {
    type: "bar",
    data: {
      labels: props.labels,
      datasets: props.series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: COLORS[i % COLORS.length] })),
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: props.series.length > 1 } } },
  };
  return <ChartCanvas config={config} label={props.label} height={props.height ?? 300} />;
}

export function DoughnutChart(props: { labels: string[]; data: number[]; label: string }) {
  const config: ChartConfiguration = {
    type: "doughnut",
    data: { labels: props.labels, datasets: [{ data: props.data, backgroundColor: props.labels.map((_, i) => COLORS[i % COLORS.length]) }] },
    options: { plugins: { legend: { position: "right" } } },
  };
  return <ChartCanvas config={config} label={props.label} height={240} />;
}

/** Estimates with their 95% intervals: a floating bar from `lo` to `hi` per row, across zero. */
export function IntervalChart(props: { labels: string[]; lo: number[]; hi: number[]; label: string; unit: string }) {
  const config: ChartConfiguration = {
    type: "bar",
    data: {
      labels: props.labels,
      datasets: [
        {
          label: props.unit,
          data: props.lo.map((lo, i) => [lo, props.hi[i]] as [number, number]),
          backgroundColor: props.labels.map((_, i) => COLORS[i % COLORS.length]),
          barPercentage: 0.4,
        },
      ],
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  };
  return <ChartCanvas config={config} label={props.label} height={60 + 50 * props.labels.length} />;
}
