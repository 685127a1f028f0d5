// A line chart on a canvas, with no library: a few series of numbers over the same samples.

import { formatBytes, formatCount } from './dom.js';

export function drawLines(canvas, series, { samples, format = formatCount } = {}) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const style = getComputedStyle(canvas);
  const ink = style.color;
  const top = niceCeiling(Math.max(1, ...series.flatMap((s) => s.values)));
  ctx.font = `16px ${style.fontFamily}`;
  const labelWidth = Math.max(...[0, 0.5, 1].map((f) => ctx.measureText(format(top * f)).width));
  const pad = { left: labelWidth + 14, right: 12, top: 12, bottom: 28 };
  const plotWidth = width - pad.left - pad.right;
  const plotHeight = height - pad.top - pad.bottom;

  ctx.fillStyle = ink;
  ctx.strokeStyle = ink;
  ctx.globalAlpha = 0.25;
  ctx.lineWidth = 1;
  for (const fraction of [0, 0.5, 1]) {
    const y = pad.top + plotHeight * (1 - fraction);
    ctx.beginPath();
    ctx.moveTo(pad.left, y);
    ctx.lineTo(pad.left + plotWidth, y);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const fraction of [0, 0.5, 1]) {
    ctx.fillText(format(top * fraction), pad.left - 8, pad.top + plotHeight * (1 - fraction));
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(`last ${samples} s`, pad.left, height - 6);
  ctx.textAlign = 'right';
  ctx.fillText('now', pad.left + plotWidth, height - 6);

  const step = plotWidth / Math.max(1, samples - 1);
  ctx.lineWidth = 3;
  ctx.lineJoin = 'round';
  for (const { color, values } of series) {
    if (values.length === 0) continue;
    ctx.strokeStyle = color;
    ctx.beginPath();
    const offset = samples - values.length; // the newest sample sits at the right edge
    values.forEach((value, index) => {
      const x = pad.left + (offset + index) * step;
      const y = pad.top + plotHeight * (1 - value / top);
      if (index === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    // the newest sample as a dot, so a line that has just begun is visible at all
    const last = values.at(-1);
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.arc(pad.left + (samples - 1) * step, pad.top + plotHeight * (1 - last / top), 5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

export const perSecondBytes = (value) => `${formatBytes(Math.round(value))}/s`;

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * magnitude) return step * magnitude;
  }
  return 10 * magnitude;
}
