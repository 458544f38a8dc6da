/**
 * Random DTS sources for differential testing against dtc: nested nodes with labels, property
 * values mixing cells, phandle and path references, strings and bytes, then top-level overrides,
 * deletions and /omit-if-no-ref/ that exercise dtc's merge, revive and phandle-allocation rules.
 */
import { randomInt } from './random.js';

interface GenNode {
  name: string;
  label: string | undefined;
  path: string;
  children: GenNode[];
}

export function randomDts(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[randomInt(next, items.length)]!;
  let labelCount = 0;
  const nodes: GenNode[] = [];
  const usedPhandles = new Set<number>();

  const value = (): string => {
    const parts: string[] = [];
    for (let n = 1 + randomInt(next, 3); n > 0; n--) {
      switch (randomInt(next, 6)) {
        case 0: {
          const cells: string[] = [];
          for (let k = randomInt(next, 5); k > 0; k--) {
            const r = next();
            if (r < 0.35 && labelCount > 0) cells.push(`&L${randomInt(next, labelCount + (next() < 0.2 ? 1 : 0))}`);
            else if (r < 0.45 && nodes.length > 0) cells.push(`&{${pick(nodes).path}}`);
            else cells.push(`0x${randomInt(next, 0x10000).toString(16)}`);
          }
          parts.push(`<${cells.join(' ')}>`);
          break;
        }
        case 1:
          parts.push(`"s${randomInt(next, 100)}"`);
          break;
        case 2:
          parts.push(`[${Array.from({ length: randomInt(next, 4) }, () => randomInt(next, 256).toString(16).padStart(2, '0')).join(' ')}]`);
          break;
        case 3:
          if (labelCount > 0) parts.push(`&L${randomInt(next, labelCount + 1)}`);
          else parts.push('"x"');
          break;
        case 4:
          parts.push(next() < 0.5 ? `/bits/ 16 <${randomInt(next, 0x10000)}>` : `<(${randomInt(next, 99)} * 3 + (1 << ${randomInt(next, 31)}))>`);
          break;
        default:
          parts.push(`<${randomInt(next, 10)}>`);
      }
    }
    return parts.join(', ');
  };

  const properties = (indent: string, allowPhandle: boolean): string[] => {
    const out: string[] = [];
    const names = new Set<string>();
    for (let n = randomInt(next, 4); n > 0; n--) {
      const name = `p${randomInt(next, 6)}`;
      if (names.has(name)) continue;
      names.add(name);
      const label = next() < 0.08 ? `P${randomInt(next, 6)}: ` : '';
      out.push(next() < 0.15 ? `${indent}${label}${name};` : `${indent}${label}${name} = ${value()};`);
    }
    if (allowPhandle && next() < 0.08) {
      const v = 1 + randomInt(next, 12);
      if (!usedPhandles.has(v)) {
        usedPhandles.add(v);
        out.push(`${indent}${next() < 0.3 ? 'linux,phandle' : 'phandle'} = <${v}>;`);
      }
    }
    return out;
  };

  const nodeText = (parentPath: string, depth: number, indent: string, into: GenNode[]): string[] => {
    const out: string[] = [];
    const names = new Set<string>();
    for (let n = depth > 2 ? 0 : randomInt(next, 4); n > 0; n--) {
      const base = `n${randomInt(next, 5)}`;
      const name = next() < 0.4 ? `${base}@${randomInt(next, 16).toString(16)}` : base;
      if (names.has(name)) continue;
      names.add(name);
      const label = next() < 0.6 ? `L${labelCount++}` : undefined;
      const path = `${parentPath === '/' ? '' : parentPath}/${name}`;
      const node: GenNode = { name, label, path, children: [] };
      nodes.push(node);
      into.push(node);
      const omit = next() < 0.1 ? '/omit-if-no-ref/ ' : '';
      out.push(`${indent}${omit}${label === undefined ? '' : `${label}: `}${name} {`);
      out.push(...properties(indent + '\t', true));
      out.push(...nodeText(path, depth + 1, indent + '\t', node.children));
      out.push(`${indent}};`);
    }
    return out;
  };

  const roots: GenNode[] = [];
  const lines = ['/dts-v1/;', '', '/ {', ...properties('\t', false), ...nodeText('/', 0, '\t', roots), '};'];
  for (let n = randomInt(next, 6); n > 0 && nodes.length > 0; n--) {
    const target = pick(nodes);
    const ref = target.label !== undefined && next() < 0.7 ? `&${target.label}` : `&{${target.path}}`;
    switch (randomInt(next, 5)) {
      case 0:
        lines.push(`/delete-node/ ${ref};`);
        break;
      case 1:
        lines.push(`/omit-if-no-ref/ ${ref};`);
        break;
      case 2:
        lines.push('/ {', ...properties('\t', false), ...nodeText('/', 1, '\t', roots), '};');
        break;
      default: {
        const body = properties('\t', false);
        if (next() < 0.4) body.push(`\t/delete-property/ p${randomInt(next, 6)};`);
        const children: string[] = [];
        if (target.children.length > 0 && next() < 0.4) children.push(`\t/delete-node/ ${pick(target.children).name};`);
        children.push(...nodeText(target.path, 2, '\t', target.children));
        // Sometimes give the target another label on the way (`Lnew: &target { }`).
        const extra = next() < 0.2 ? `L${labelCount++}: ` : '';
        lines.push(`${extra}${ref} {`, ...body, ...children, '};');
      }
    }
  }
  return lines.join('\n') + '\n';
}
