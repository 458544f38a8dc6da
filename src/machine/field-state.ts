/**
 * Snapshot state of a model kept in plain fields: its own typed arrays (copied) and numbers,
 * booleans, bigints and strings. Objects it holds (outputs, memories, caches) are not state here:
 * the model saves what of them matters itself.
 */
export type FieldState = ReadonlyMap<string, unknown>;

type Fields = Record<string, unknown>;

export function saveFields(model: object): FieldState {
  const state = new Map<string, unknown>();
  for (const [key, value] of Object.entries(model as Fields)) {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) state.set(key, (value as Uint8Array).slice());
    else if (['number', 'boolean', 'bigint', 'string'].includes(typeof value)) state.set(key, value);
  }
  return state;
}

export function loadFields(model: object, state: FieldState): void {
  const fields = model as Fields;
  for (const [key, value] of state) {
    const current = fields[key];
    if (ArrayBuffer.isView(current)) (current as Uint8Array).set(value as Uint8Array);
    else fields[key] = value;
  }
}
