/**
 * A model whose state a zone snapshot keeps (src/hypervisor/replay/): `saveState` returns a copy
 * that later changes of the model never touch, `loadState` puts such a copy back. Caches (TLBs,
 * compiled code) are not state: a model drops them on load.
 */
export interface Snapshottable {
  saveState(): unknown;
  loadState(state: unknown): void;
}

export function isSnapshottable(x: unknown): x is Snapshottable {
  return typeof x === 'object' && x !== null && typeof (x as Snapshottable).saveState === 'function' && typeof (x as Snapshottable).loadState === 'function';
}
