/**
 * What is wrong with text JSON.parse refused, without quoting the text: V8's messages carry a
 * snippet of the input ("Unexpected token 'r', "root:x:0:0"... is not valid JSON"), and a file
 * named by a client must not have its bytes echoed back. Gives the line and column when V8 says
 * where.
 */
export function jsonSyntaxProblem(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = /at position (\d+)/.exec(message);
  const where = at === null ? '' : ` at ${lineColumn(text, Number(at[1]))}`;
  let reason: string;
  if (/^Unexpected token/.test(message)) reason = 'unexpected character';
  else if (/^Unexpected end/.test(message)) reason = 'unexpected end of input';
  else reason = message.replace(/ in JSON at position \d+$| at position \d+$/, '').replace(/[,:] ".*$/s, '');
  return `not valid JSON${where} (${reason.charAt(0).toLowerCase()}${reason.slice(1)})`;
}

function lineColumn(text: string, position: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < position && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return `line ${line}, column ${position - start + 1}`;
}

/** JSON.parse whose SyntaxError message never quotes the text. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(jsonSyntaxProblem(text, e));
  }
}
