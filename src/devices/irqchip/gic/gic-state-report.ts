/**
 * A GIC's state as text, for a debugger (`monitor irq`): per interrupt the zone can see that is
 * enabled, pending or active (every owned SPI always), its enable/pending/active bits, line level,
 * trigger, group, priority and routing; then each vCPU's CPU interface. Reads state only.
 */
import type { GicCore } from './gic-core.js';

export function describeGic(core: GicCore): string {
  const lines = [`${core.name}: distributor groups enabled ${groupsText(core.distEnable)}; ${core.affinityRouting ? 'affinity routing' : 'CPU-target routing'}`];
  lines.push('  intid  vcpu  enabled pending active level trigger group prio  route');
  const row = (intid: number, cpu: number | undefined) => {
    const s = core.slot(cpu ?? 0, intid);
    const route = intid < 32 ? '' : core.affinityRouting ? routeText(core.routeCpu[intid]!) : `targets 0x${core.targets[intid]!.toString(16)}`;
    lines.push(
      `  ${String(intid).padStart(5)}  ${cpu === undefined ? '   -' : String(cpu).padStart(4)}  ${yesNo(core.enabled[s])}     ${yesNo(core.isPending(s) ? 1 : 0)}     ${yesNo(core.active[s])}    ` +
        `${core.level[s] ? 'high' : 'low '}  ${core.edge[s] ? 'edge ' : 'level'}   ${core.group[s]}     0x${core.priority[s]!.toString(16).padStart(2, '0')}  ${route}`,
    );
  };
  for (let cpu = 0; cpu < core.vcpus; cpu++) {
    for (let intid = 0; intid < 32; intid++) {
      const s = core.slot(cpu, intid);
      if (core.enabled[s] || core.isPending(s) || core.active[s]) row(intid, cpu);
    }
  }
  for (const intid of core.ownedSpiList) row(intid, undefined);
  for (let cpu = 0; cpu < core.vcpus; cpu++) {
    lines.push(`  vcpu${cpu} CPU interface: groups enabled ${groupsText(core.cpuEnable[cpu]!)}, priority mask 0x${core.pmr[cpu]!.toString(16)}, running priority 0x${core.runningPriority(cpu).toString(16)}`);
  }
  return lines.join('\n') + '\n';
}

const yesNo = (v: number | undefined) => (v ? 'yes' : 'no ');
const groupsText = (mask: number) => (mask === 0 ? 'none' : [0, 1].filter((g) => (mask >> g) & 1).map((g) => `G${g}`).join('+'));
const routeText = (r: number) => (r === -2 ? 'any vCPU' : r < 0 ? 'no vCPU' : `vcpu${r}`);
