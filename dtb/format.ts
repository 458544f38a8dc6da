/** Constants of the flattened device tree format (Devicetree Specification v0.4, chapter 5). */
export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 1;
export const FDT_END_NODE = 2;
export const FDT_PROP = 3;
export const FDT_NOP = 4;
export const FDT_END = 9;

/** Version we write; last compatible version we claim. */
export const FDT_VERSION = 17;
export const FDT_LAST_COMPATIBLE_VERSION = 16;
/** Header sizes: v17 adds size_dt_struct to v16's nine words. */
export const FDT_V16_HEADER_SIZE = 36;
export const FDT_V17_HEADER_SIZE = 40;

/** Deepest node nesting accepted: keeps every tree walk well within the JS stack. */
export const MAX_DEPTH = 512;
