// Bar charts drawn with uPlot (small, canvas, no dependencies). Every chart has a text summary for screen
// readers and its figures in a table, so nothing is only in the picture.

import uPlot from "../vendor/uPlot.esm.js";
import { h } from "./ui.js";

const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

// One series of bars: a value per category (labels along x).
export function barChart({ title, labels, values, label, color = "#2b5fad", summary, unit = "" }) {
  const canvasBox = h("div", { class: "chart-canvas", role: "img", "aria-label": `${title}. ${summary}` });
  const figure = h("figure", { class: "chart" },
    h("figcaption", {}, title),
    canvasBox,
    h("details", {}, h("summary", {}, "Show the figures"),
      h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), h("th", { scope: "col" }, label))),
        h("tbody", {}, labels.map((name, i) => h("tr", {}, h("th", { scope: "row" }, name),
          h("td", {}, `${values[i]}${unit}`)))))));

  // As many x labels as fit the chart's width side by side (about 7 px a character, 16 px apart), so that they
  // never overlap at any width: every `every`-th label is shown.
  const labelWidth = Math.max(...labels.map((text) => String(text).length), 1) * 7 + 16;
  let every = 1;
  const build = () => {
    const size = Math.max(260, canvasBox.clientWidth || 600);
    const fit = Math.max(1, Math.floor((size - 60) / labelWidth));
    every = Math.max(1, Math.ceil(labels.length / fit));
    canvasBox.dataset.labelsShown = String(Math.ceil(labels.length / every));
    canvasBox.dataset.labelWidth = String(labelWidth);
    const xs = labels.map((_, i) => i);
    const options = {
      width: size,
      height: 220,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: () => [-0.6, labels.length - 0.4] },
        y: { range: (u, min, max) => [0, Math.max(1, max) * 1.15] },
      },
      axes: [
        {
          splits: () => xs,
          values: (u, splits) => splits.map((i) => (i % every === 0 ? labels[i] ?? "" : "")),
          gap: 4,
          size: 36,
        },
        { incrs: COUNT_STEPS, size: 44, values: (u, splits) => splits.map((v) => `${v}${unit}`) },
      ],
      series: [
        {},
        { label, stroke: color, fill: color, width: 0, paths: uPlot.paths.bars({ size: [0.7, 64], align: 0 }), points: { show: false } },
      ],
    };
    canvasBox.replaceChildren();
    return new uPlot(options, [xs, values], canvasBox);
  };

  let plot = null;
  const observer = new ResizeObserver(() => {
    if (!canvasBox.isConnected) return observer.disconnect();
    const size = Math.max(260, canvasBox.clientWidth);
    if (!plot) plot = build();
    else if (Math.abs(plot.width - size) > 4) plot.setSize({ width: size, height: 220 });
  });
  observer.observe(canvasBox);
  return figure;
}
