/**
 * The Zynq MPSoC's 78 MIO pins as the platform firmware describes them to Linux's pinctrl-zynqmp
 * driver: functions, each with numbered pin groups (Linux names group n of function f "f_n_grp"),
 * global group ids, and per-pin mux selection and pad configuration the driver's calls set.
 *
 * The groups are the MIO positions of each peripheral (UG1085, MIO-at-a-glance): a UART or I2C
 * pair repeats every 4 pins (uart0 on MIO 2+4n/3+4n, uart1 on 4n+1/4n, i2c0 on 2+4n/3+4n, i2c1 on
 * 4n/4n+1, can1 on 4n/4n+1 as RX/TX); gpio0 has one group per pin; the SD, USB and GEM3 banks are
 * their fixed pin sets. Functions the ZCU102 device tree does not use are left out.
 */
export const MIO_PINS = 78;

interface FunctionDef {
  readonly name: string;
  /** Pins of each of the function's groups, in group order. */
  readonly groups: readonly (readonly number[])[];
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
/** Two-pin groups every 4 pins starting at `first` (the last one ending at or below MIO77). */
const pairs = (first: number, second: number) =>
  range(0, 19).map((n) => [first + 4 * n, second + 4 * n]).filter((g) => g.every((p) => p < MIO_PINS));

const FUNCTIONS: readonly FunctionDef[] = [
  { name: 'uart0', groups: pairs(2, 3) },
  { name: 'uart1', groups: pairs(1, 0) },
  { name: 'i2c0', groups: pairs(2, 3) },
  { name: 'i2c1', groups: pairs(0, 1) },
  { name: 'can1', groups: pairs(0, 1) },
  { name: 'gpio0', groups: range(0, MIO_PINS).map((p) => [p]) },
  { name: 'sdio1', groups: [range(46, 6)] },
  { name: 'sdio1_cd', groups: [[45]] },
  { name: 'sdio1_wp', groups: [[44]] },
  { name: 'usb0', groups: [range(52, 12)] },
  { name: 'ethernet3', groups: [range(64, 12)] },
  { name: 'mdio3', groups: [[76, 77]] },
];

/** Global group ids: the functions' groups numbered in order. */
const FIRST_GROUP: readonly number[] = FUNCTIONS.reduce<number[]>((acc, f, i) => [...acc, i === 0 ? 0 : acc[i - 1]! + FUNCTIONS[i - 1]!.groups.length], []);

/** For each pin, the global ids of the groups holding it. */
const PIN_GROUPS: readonly (readonly number[])[] = (() => {
  const out: number[][] = range(0, MIO_PINS).map(() => []);
  FUNCTIONS.forEach((f, fi) => f.groups.forEach((pins, gi) => pins.forEach((p) => out[p]!.push(FIRST_GROUP[fi]! + gi))));
  return out;
})();

/** The end of a group list in a response. */
export const NA_GROUP = 0xffff;
/** Pad configuration parameters (Linux `enum pm_pinctrl_config_param`): slew, bias, pull, schmitt, drive, voltage, tri-state. */
const CONFIG_PARAMS = 7;
/** IO standard the bank's pads report (1 = LVCMOS 1.8 V, the ZCU102's MIO banks). */
const VOLTAGE_STATUS = 5;
const LVCMOS18 = 1;

export class ZynqmpPinMux {
  private readonly function = new Int16Array(MIO_PINS);
  private readonly config = new Uint8Array(MIO_PINS * CONFIG_PARAMS);
  private readonly requested = new Uint8Array(MIO_PINS);

  constructor() {
    this.reset();
  }

  reset(): void {
    this.function.fill(-1);
    this.requested.fill(0);
    this.config.fill(0);
    for (let p = 0; p < MIO_PINS; p++) {
      this.config[p * CONFIG_PARAMS + 1] = 1; // bias enabled
      this.config[p * CONFIG_PARAMS + 2] = 1; // pull-up
      this.config[p * CONFIG_PARAMS + 4] = 2; // 8 mA
      this.config[p * CONFIG_PARAMS + VOLTAGE_STATUS] = LVCMOS18;
    }
  }

  get functionCount(): number {
    return FUNCTIONS.length;
  }

  functionName(fid: number): string | undefined {
    return FUNCTIONS[fid]?.name;
  }

  groupCount(fid: number): number | undefined {
    return FUNCTIONS[fid]?.groups.length;
  }

  /** Global id of the function's `index`-th group, or NA_GROUP past the last. */
  functionGroup(fid: number, index: number): number {
    const f = FUNCTIONS[fid];
    return f !== undefined && index < f.groups.length ? FIRST_GROUP[fid]! + index : NA_GROUP;
  }

  /** Global id of the `index`-th group holding `pin`, or NA_GROUP past the last. */
  pinGroup(pin: number, index: number): number {
    return PIN_GROUPS[pin]?.[index] ?? NA_GROUP;
  }

  request(pin: number): boolean {
    if (pin >= MIO_PINS) return false;
    this.requested[pin] = 1;
    return true;
  }

  release(pin: number): boolean {
    if (pin >= MIO_PINS) return false;
    this.requested[pin] = 0;
    return true;
  }

  /** Selects function `fid` on `pin`: only a function with a group holding the pin. */
  setFunction(pin: number, fid: number): boolean {
    const f = FUNCTIONS[fid];
    if (pin >= MIO_PINS || f === undefined || !f.groups.some((g) => g.includes(pin))) return false;
    this.function[pin] = fid;
    return true;
  }

  getFunction(pin: number): number | undefined {
    if (pin >= MIO_PINS) return undefined;
    const f = this.function[pin]!;
    return f < 0 ? undefined : f;
  }

  getConfig(pin: number, param: number): number | undefined {
    if (pin >= MIO_PINS || param >= CONFIG_PARAMS) return undefined;
    return this.config[pin * CONFIG_PARAMS + param];
  }

  /** The IO standard is the bank's supply, read-only; the other parameters take small values. */
  setConfig(pin: number, param: number, value: number): boolean {
    if (pin >= MIO_PINS || param >= CONFIG_PARAMS || param === VOLTAGE_STATUS || value > 3) return false;
    this.config[pin * CONFIG_PARAMS + param] = value;
    return true;
  }
}
