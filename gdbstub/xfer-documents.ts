import { escapeXml } from './target-xml.js';
import type { GdbMemoryRegion, ThreadInfo } from './target.js';
import { formatThreadId } from './thread-id.js';

/** The documents served through qXfer besides the target description, and the paging of any document. */

/** qXfer:threads:read — one `<thread>` per vCPU: gdb's `info threads` shows name and extra text. */
export function threadListXml(threads: readonly ThreadInfo[], multiprocess: boolean): string {
  let xml = '<?xml version="1.0"?><threads>';
  for (const t of threads) {
    xml += `<thread id="${formatThreadId(t.id, multiprocess)}" core="${t.id - 1}" name="${escapeXml(t.name)}">${escapeXml(t.extra)}</thread>`;
  }
  return xml + '</threads>';
}

/** qXfer:memory-map:read, in the GDB memory-map DTD's shape. */
export function memoryMapXml(regions: readonly GdbMemoryRegion[]): string {
  let xml =
    '<?xml version="1.0"?><!DOCTYPE memory-map PUBLIC "+//IDN gnu.org//DTD GDB Memory Map V1.0//EN" ' +
    '"http://sourceware.org/gdb/gdb-memory-map.dtd"><memory-map>';
  for (const r of regions) xml += `<memory type="${r.kind}" start="0x${r.start.toString(16)}" length="0x${r.length.toString(16)}"/>`;
  return xml + '</memory-map>';
}

/** One page of a document: `m` + data while more follows, `l` + data for the last one. */
export function xferChunk(document: string, offset: number, length: number): { readonly prefix: 'm' | 'l'; readonly data: string } {
  if (offset >= document.length) return { prefix: 'l', data: '' };
  const data = document.slice(offset, offset + length);
  return { prefix: offset + data.length >= document.length ? 'l' : 'm', data };
}
