import type { VcpuHost } from './cpu.js';

/**
 * The VcpuHost of a lone vCPU with no hypervisor around it (bare-metal programs, benches, core
 * tests): vCPU 0 is on and no other exists, firmware IPIs, fences and console output go nowhere,
 * hypercalls return 0. `parts` gives its memory and clock, and whatever it does otherwise.
 */
export function bareVcpuHost(parts: Pick<VcpuHost, 'memory' | 'timerFrequency' | 'now'> & Partial<VcpuHost>): VcpuHost {
  return {
    startVcpu: () => 'invalid',
    vcpuState: (vcpu) => (vcpu === 0 ? 'on' : 'invalid'),
    kick: () => {},
    ipi: () => {},
    remoteFence: () => {},
    consoleWrite: () => {},
    hypercall: () => 0n,
    ...parts,
  };
}
