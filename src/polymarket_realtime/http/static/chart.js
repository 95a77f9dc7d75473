// Inline SVG charts: the session equity chart and the small sparklines on cards. No library needed.
import { clear, money, svg } from "./dom.js";

/** Draw equity points [{t, v}] into `box`, with the starting cash as a dashed baseline. */
export function equityChart(box, points, baseline) {
  clear(box);
  // Drawn at the box's real size so labels are not stretched; redrawn on every update.
  const W = Math.max(200, box.clientWidth || 600), H = Math.max(100, box.clientHeight || 180), L = 64, R = 10, T = 12, B = 22;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}` });
  box.append(root);
  if (!points.length) {
    root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "Waiting for the first equity update…"));
    return;
  }
  const pts = points.length === 1 ? [points[0], { t: points[0].t + 1000, v: points[0].v }] : points;
  const t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
  let lo = Math.min(...pts.map((p) => p.v)), hi = Math.max(...pts.map((p) => p.v));
  // The starting-cash baseline joins the scale only when it is near the data: a session far from its start
  // would otherwise draw a flat line at the edge.
  const near = baseline !== null && baseline !== undefined && Number.isFinite(baseline)
    && baseline >= lo - (hi - lo || Math.abs(lo) * 0.01) && baseline <= hi + (hi - lo || Math.abs(hi) * 0.01);
  if (near) { lo = Math.min(lo, baseline); hi = Math.max(hi, baseline); }
  if (hi - lo < 1e-9) { hi += 1; lo -= 1; }
  const pad = (hi - lo) * 0.08; hi += pad; lo -= pad;
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const line = pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  root.append(
    svg("polygon", { class: "area", points: `${x(t0)},${H - B} ${line} ${x(t1)},${H - B}` }),
    svg("polyline", { class: "line", points: line }),
  );
  if (near) {
    root.append(svg("line", { class: "base", x1: L, x2: W - R, y1: y(baseline), y2: y(baseline) }));
  }
  root.append(
    svg("text", { x: L - 6, y: T + 10, "text-anchor": "end" }, money(hi)),
    svg("text", { x: L - 6, y: H - B, "text-anchor": "end" }, money(lo)),
    svg("text", { x: L, y: H - 6 }, new Date(t0).toLocaleTimeString([], { hour12: false })),
    svg("text", { x: W - R, y: H - 6, "text-anchor": "end" }, new Date(t1).toLocaleTimeString([], { hour12: false })),
  );
}

/** A tiny line of the last values (no axes), for cards. */
export function sparkline(values) {
  const root = svg("svg", { class: "spark", viewBox: "0 0 100 30", preserveAspectRatio: "none", "aria-hidden": "true" });
  if (values.length < 2) return null;
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const pts = values.map((v, i) => `${((i / (values.length - 1)) * 100).toFixed(1)},${(28 - ((v - lo) / span) * 26).toFixed(1)}`);
  root.append(svg("polyline", { points: pts.join(" ") }));
  return root;
}
