// The usage chart: hours hosted against always-on, per bot, as grouped bars (Chart.js, only the
// parts a bar chart needs, so the chunk stays small). Loaded on demand (import("./usageChart")).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export type UsageBar = { label: string; hosted: number; alwaysOn: number };

/** Draws the bars into `canvas`; the returned function destroys the chart. */
export function drawUsage(canvas: HTMLCanvasElement, bars: UsageBar[]): () => void {
  const style = getComputedStyle(document.documentElement);
  const color = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const text = color("--text", "#e6e9ee");
  const line = color("--line", "#444");
  const chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: bars.map((b) => b.label),
      datasets: [
        { label: "Hours hosted", data: bars.map((b) => b.hosted), backgroundColor: color("--accent", "#6cb6ff") },
        {
          label: "Always-on hours",
          data: bars.map((b) => b.alwaysOn),
          backgroundColor: color("--muted", "#999"),
        },
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      color: text,
      scales: {
        x: { ticks: { color: text }, grid: { color: line } },
        y: {
          beginAtZero: true,
          ticks: { color: text },
          grid: { color: line },
          title: { display: true, text: "hours", color: text },
        },
      },
      plugins: { legend: { labels: { color: text } } },
    },
  });
  return () => chart.destroy();
}
