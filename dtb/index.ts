/**
 * hvisor-ts's flattened device tree library.
 *
 * - `parseDtb(bytes)` → `DeviceTree` (typed `DtbError` for any malformed blob, naming the offset or path)
 * - `DeviceTree`: nodes by path or alias, phandles, `/chosen`, `reg` / `cpuReg` (through `ranges`),
 *   `interrupts` / `interrupt-parent` / `interrupt-map` / `resolvedInterrupts` (through nexuses);
 *   `DtNode` / `DtProperty` for values and editing; `validateTree` for whole-tree reference checks
 * - `writeDtb(tree)` → v17 blob laid out as dtc lays it out; `printDts(tree)` → the text
 *   `dtc -I dtb -O dts` (1.6.1) prints; `compileDts(source)` → `DeviceTree` with dtc's phandle
 *   allocation, so `writeDtb(compileDts(s))` equals `dtc -O dtb s`; `treeToJson(tree)` for
 *   `hvisor dtb --json`
 * - Accessors throw DtbError on malformed values and dangling or cyclic references; lookups that
 *   may legitimately miss return undefined (`node`, `nodeByPhandle`, `cpuReg` for unmapped buses).
 *
 * Number conventions: cells are u32 `number`s; `reg`/`cpuReg` addresses and sizes are `number`s
 * (exact up to 2^53; beyond that a DtbError — use `regCells` for raw cells); values that are
 * genuinely 64-bit (memory reservations, `ranges` entries, `u64` properties, translated
 * addresses from `translate`) are `bigint`.
 */
export { DtbError, type DtbErrorLocation } from './errors.js';
export { DtNode, DtProperty } from './node.js';
export { DeviceTree, type MemoryReservation } from './device-tree.js';
export { parseDtb, readHeader, type FdtHeader, type ParseOptions } from './reader.js';
export {
  regCells, readReg, cpuReg, ranges, translateAddress,
  type RegEntry, type RegCells, type RangeEntry, type PciSpace,
} from './addresses.js';
export {
  interruptParent, interrupts, interruptMap, mapInterrupt, mapInterruptEntry, resolveInterrupt,
  type InterruptSpec, type InterruptMapEntry,
} from './interrupts.js';
export { aliases, chosen, type Chosen } from './chosen.js';
export { validateTree, assertValidTree } from './validate.js';
export {
  encodeCells, encodeU64, encodeStrings, encodeValue, decodeCells, decodeStrings, cellsToBigInt, bigIntToCells,
  type PropertyValue,
} from './values.js';
export { printDts, formatValue, guessValueForm, type ValueForm } from './dts-printer.js';
export { writeDtb, type WriteOptions } from './writer.js';
export { treeToJson, valueToJson, type JsonTree, type JsonNode, type JsonValue } from './json.js';
export { compileDts, compileDtsFile, diskFiles, type CompileOptions, type FileCompileOptions } from './dts/compiler.js';
export { needsCpp, runCpp } from './dts/cpp.js';
export { DtsError, type SourceFiles } from './dts/source.js';
