import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/fixtures.js';

describe('the repository tracks no worktree links', () => {
  it('node_modules and .fixtures are never committed (a worktree\'s symlinks, once merged, replace the main checkout\'s real folders)', () => {
    expect(execFileSync('git', ['ls-files', '--', 'node_modules', '.fixtures'], { cwd: REPO, encoding: 'utf8' })).toBe('');
  });
});
