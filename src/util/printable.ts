/**
 * Text that came from a config, a guest or a client, made safe for a terminal: C0 and C1 control
 * characters and DEL (an ESC would start a terminal escape sequence: colours, cursor moves, a
 * retitled window) are shown as \xNN, and backslashes doubled so the escape cannot be forged.
 * Newlines and tabs are escaped too: a printed name or message is one line.
 */
export function printable(text: string): string {
  return text.replace(/[\\\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
