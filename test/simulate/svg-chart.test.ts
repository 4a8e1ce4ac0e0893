import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { niceCeil, renderSvgChart } from '../../framework/simulate/svg-chart.ts';

interface Node {
  [k: string]: unknown;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['g', 'polyline', 'text', 'line'].includes(name) });

function panelsOf(svg: string): Node[] {
  const doc = parser.parse(svg) as { svg: { g: Node[] } };
  return doc.svg.g.filter((g) => g['@class'] === 'panel');
}

function seriesOf(panel: Node): Node[] {
  return ((panel.g as Node[]) ?? []).filter((g) => g['@class'] === 'series');
}

describe('renderSvgChart', () => {
  it('renders well-formed SVG with one <g class="series"> per series in each panel', () => {
    const svg = renderSvgChart({
      title: 'A & B <compare> "quotes"',
      panels: [
        { title: 'left', series: [{ name: 'A', values: [0, 0.5, 1] }, { name: "B's", values: [1, 0.5, 0] }] },
        { title: 'right', series: [{ name: 'A', values: [0.2, 0.2, 0.2] }] },
      ],
      xLabel: 'epoch',
      yLabel: 'share',
    });
    expect(XMLValidator.validate(svg)).toBe(true);
    const panels = panelsOf(svg);
    expect(panels.map((p) => p['@data-title'])).toEqual(['left', 'right']);
    expect(seriesOf(panels[0]).map((s) => s['@data-name'])).toEqual(['A', "B's"]);
    expect(seriesOf(panels[1])).toHaveLength(1);
    // the same participant keeps its colour across panels
    const stroke = (s: Node) => (s.polyline as Node[])[0]['@stroke'];
    expect(stroke(seriesOf(panels[0])[0])).toBe(stroke(seriesOf(panels[1])[0]));
    expect(stroke(seriesOf(panels[0])[0])).not.toBe(stroke(seriesOf(panels[0])[1]));
    // three points per series, the rising series ends higher on screen (smaller y) than it starts
    const pts = ((seriesOf(panels[0])[0].polyline as Node[])[0]['@points'] as string).split(' ').map((p) => p.split(',').map(Number));
    expect(pts).toHaveLength(3);
    expect(pts[2][1]).toBeLessThan(pts[0][1]);
    expect(pts[2][0]).toBeGreaterThan(pts[0][0]);
  });

  it('breaks lines at non-finite values and handles empty and single-point data', () => {
    const svg = renderSvgChart({ title: 't', panels: [{ title: 'p', series: [{ name: 'gap', values: [1, NaN, 2, 3] }, { name: 'one', values: [4] }] }] });
    expect(XMLValidator.validate(svg)).toBe(true);
    const [gap, one] = seriesOf(panelsOf(svg)[0]);
    expect(gap.polyline as Node[]).toHaveLength(2);
    expect(one.polyline as Node[]).toHaveLength(1);
    expect(XMLValidator.validate(renderSvgChart({ title: 'empty', panels: [{ title: 'p', series: [] }] }))).toBe(true);
  });

  it('rounds the y axis up to readable values', () => {
    expect(niceCeil(0.83)).toBe(1);
    expect(niceCeil(0.21)).toBeCloseTo(0.25);
    expect(niceCeil(130)).toBe(200);
    expect(niceCeil(0)).toBe(1);
  });
});
