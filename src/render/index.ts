/** Quick-look rendering of radar volumes (PPI images as PNG). */
export {
  encodePng,
  lowestSweep,
  PPI_COLORS,
  ppiLayout,
  renderPpiPng,
  renderPpiRgba,
  sweepRangeKm,
} from './ppi.js';
export type { PpiImage, PpiLayout, PpiOptions } from './ppi.js';
export {
  REFLECTIVITY_SCALE,
  VELOCITY_SCALE,
  ZDR_SCALE,
  rampScale,
  scaleForField,
  stepIndex,
} from './scales.js';
export type { ColorScale, ScaleStep } from './scales.js';
export { drawText, textWidth } from './font.js';
export type { Rgb } from './font.js';
