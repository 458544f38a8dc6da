import type { Ram } from '../../machine/ram.js';

/** Told when a RAM page starts or stops holding translated code. */
export interface CodePageListener {
  codePageMarked(pages: CodePages, page: number): void;
  codePageWritten(pages: CodePages, page: number): void;
}

let nextId = 1;
const registry = new WeakMap<Ram, CodePages>();

/**
 * Which 4 KiB pages of one RAM block hold code some core has translated. Shared by every core using
 * the block, so a store by one vCPU (or DMA, through Cpu.invalidateCode) drops the blocks of all.
 * Cores keep code pages out of their write fast path, so every store to them is seen here.
 */
export class CodePages {
  readonly id = nextId++;
  private readonly marks: Uint8Array;
  private readonly listeners = new Set<CodePageListener>();

  private constructor(readonly ram: Ram) {
    this.marks = new Uint8Array(Math.ceil(ram.size / 4096));
  }

  static of(ram: Ram): CodePages {
    let p = registry.get(ram);
    if (!p) registry.set(ram, (p = new CodePages(ram)));
    return p;
  }

  subscribe(l: CodePageListener): void {
    this.listeners.add(l);
  }

  isCode(page: number): boolean {
    return this.marks[page] === 1;
  }

  mark(page: number): void {
    if (this.marks[page] === 1) return;
    this.marks[page] = 1;
    for (const l of this.listeners) l.codePageMarked(this, page);
  }

  /** A write reached `page`: every core drops its blocks there. */
  written(page: number): void {
    if (this.marks[page] !== 1) return;
    this.marks[page] = 0;
    for (const l of this.listeners) l.codePageWritten(this, page);
  }
}
