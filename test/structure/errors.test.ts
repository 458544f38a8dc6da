import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errno, errnoOf, HvisorError } from '../../src/util/hvisor-error.js';
import { LifecycleError } from '../../src/hypervisor/lifecycle/lifecycle-error.js';
import { PciAssignmentError } from '../../src/devices/pci/virtual-ecam.js';
import { VirtqueueError } from '../../src/devices/virtio/virtqueue.js';
import { ConfigError } from '../../src/config/config-error.js';
import { REPO } from '../helpers/fixtures.js';

function sources(dir: string): string[] {
  return readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
}

describe('one error base: a name and an errno', () => {
  it('every error class in src/ and boards/ descends from HvisorError (dtb/ and gdbstub/ stand alone and name theirs)', () => {
    const parents = new Map<string, { parent: string; file: string }>();
    for (const file of [...sources('src'), ...sources('boards')]) {
      for (const m of readFileSync(join(REPO, file), 'utf8').matchAll(/class (\w+) extends (\w+)/g)) parents.set(m[1]!, { parent: m[2]!, file });
    }
    const fromHvisorError = (name: string): boolean => name === 'HvisorError' || (parents.has(name) && fromHvisorError(parents.get(name)!.parent));
    const errors = [...parents].filter(([name, { parent }]) => /Error$|^AccessStalled$/.test(name) || /Error$/.test(parent));
    expect(errors.length).toBeGreaterThan(25);
    const stray = errors.filter(([name]) => name !== 'HvisorError' && !fromHvisorError(name)).map(([n, { file }]) => `${file}: ${n}`);
    expect(stray).toEqual([]);
  });

  it('the name is the class, the errno EINVAL unless the error says otherwise', () => {
    expect(new PciAssignmentError('x').name).toBe('PciAssignmentError');
    expect(new VirtqueueError('x').name).toBe('VirtqueueError');
    expect(new ConfigError('f.json', 'a.b', 'c').name).toBe('ConfigError');
    expect(new LifecycleError(Errno.EBUSY, 'busy')).toMatchObject({ name: 'LifecycleError', errno: Errno.EBUSY, message: 'busy' });
    expect(errnoOf(new ConfigError('f', '', 'x'))).toBe(Errno.EINVAL);
    expect(errnoOf(new LifecycleError(Errno.ENOENT, 'no zone'))).toBe(Errno.ENOENT);
    expect(errnoOf(new TypeError('a bug'))).toBe(Errno.EINVAL);
    expect(new PciAssignmentError('x')).toBeInstanceOf(HvisorError);
  });
});
