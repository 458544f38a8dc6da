import { describe, expect, it } from 'vitest';
import { jsonSyntaxProblem } from '../../src/util/json-syntax.js';

const problem = (text: string) => {
  try {
    JSON.parse(text);
  } catch (e) {
    return jsonSyntaxProblem(text, e);
  }
  throw new Error('parsed');
};

describe('jsonSyntaxProblem: where JSON is broken, never what the file says', () => {
  it('gives line and column when V8 says where, and never quotes the text', () => {
    expect(problem('{"a":\n1,\n  2}')).toBe('not valid JSON at line 3, column 3 (expected double-quoted property name)');
    expect(problem('{"a":1} x')).toBe('not valid JSON at line 1, column 9 (unexpected non-whitespace character after JSON)');
    expect(problem('')).toBe('not valid JSON (unexpected end of input)');
    const shadow = 'root:$6$s3cr3t:19000:0:99999:7:::';
    expect(problem(shadow)).toBe('not valid JSON (unexpected character)');
    expect(problem('{"k": "v", "x": tru}')).not.toMatch(/tru|"k"/);
  });
});
