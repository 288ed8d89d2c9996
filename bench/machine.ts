/**
 * What the bench ran on, and what the processes on it used: CPU time and memory from /proc, so
 * that the worker, the dev server and FerretDB are measured apart from each other and from
 * whatever else the machine runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

let clockTicks: number | undefined;

/** USER_HZ: /proc counts CPU time in these. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export function machineLine(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.+)$/mu.exec(info)?.[1]?.trim() ?? model;
  } catch {
    // not Linux: os.cpus() is good enough
  }
  const ramGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return (
    `machine: ${model} | ${os.cpus().length} cores | ${ramGiB} GiB RAM | node ${process.version} | ` +
    `${os.platform()} ${os.release()} | ${new Date().toISOString()} | load avg ${load}`
  );
}

/** CPU seconds (user + system) a process has used so far, all its threads included. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Resident and peak resident memory in MiB (VmRSS, VmHWM). */
export function processMemoryMiB(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'mu').exec(status)?.[1] ?? NaN);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * Busy and total CPU time of the whole machine, in seconds of all cores together; `steal` (part
 * of busy) is time the hypervisor gave this VM's cores to others, which slows every process here.
 */
export function machineCpuSeconds(): { busy: number; total: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/u).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const steal = v[7] ?? 0;
    return { busy: (total - idle) / ticksPerSecond(), total: total / ticksPerSecond(), steal: steal / ticksPerSecond() };
  } catch {
    return { busy: 0, total: 0, steal: 0 };
  }
}

/**
 * CPU seconds of each thread of `pid` so far, by thread name and id ("node 1234"); the process's
 * first thread is "main". Whether one thread is saturated while the process is not: Node names
 * its worker threads (the SDK's workflow thread among them) and V8's helpers all "node".
 */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const byName: Record<string, number> = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name =
          Number(tid) === pid ? 'main' : `${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))} ${tid}`;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
        const seconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
        byName[name] = (byName[name] ?? 0) + seconds;
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // the process ended
  }
  return byName;
}

/** Processes descended from `root` whose command line contains `needle`. */
export function findDescendants(root: number, needle: string): number[] {
  const parents = new Map<number, number>();
  const cmdlines = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(pid, ppid);
      cmdlines.set(pid, readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // gone meanwhile
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parents.get(pid), guard = 0; p !== undefined && guard < 64; p = parents.get(p), guard++) {
      if (p === root) return true;
    }
    return false;
  };
  return [...cmdlines.entries()]
    .filter(([pid, cmd]) => cmd.includes(needle) && isDescendant(pid))
    .map(([pid]) => pid);
}

export interface CpuWatch {
  /** CPU seconds each watched process used since the watch began, and the machine's. */
  stop(): CpuUsage;
}

export interface CpuUsage {
  wallSeconds: number;
  /** CPU seconds per watched name. */
  byName: Record<string, number>;
  machineBusy: number;
  machineCapacity: number;
  /** CPU seconds stolen by the hypervisor (part of machineBusy). */
  machineSteal: number;
}

/** Starts counting CPU time of the named processes and of the whole machine. */
export function watchCpu(pids: Record<string, number | undefined>): CpuWatch {
  const started = Date.now();
  const first = Object.fromEntries(
    Object.entries(pids).map(([k, pid]) => [k, pid ? processCpuSeconds(pid) : undefined]),
  );
  const machine = machineCpuSeconds();
  return {
    stop() {
      const now = machineCpuSeconds();
      const byName: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const before = first[name];
        const after = pid ? processCpuSeconds(pid) : undefined;
        if (before !== undefined && after !== undefined) byName[name] = after - before;
      }
      return {
        wallSeconds: (Date.now() - started) / 1000,
        byName,
        machineBusy: now.busy - machine.busy,
        machineCapacity: now.total - machine.total,
        machineSteal: now.steal - machine.steal,
      };
    },
  };
}

/** "worker 0.42 cores, dev server 0.30 cores, ...; machine 1.6 of 2 cores busy (others 0.5)". */
export function describeCpu(usage: CpuUsage): string {
  const wall = usage.wallSeconds || 1;
  const ours = Object.values(usage.byName).reduce((a, b) => a + b, 0);
  const parts = Object.entries(usage.byName).map(([name, s]) => `${name} ${(s / wall).toFixed(2)}`);
  const cores = os.cpus().length;
  const busyCores = usage.machineCapacity > 0 ? (usage.machineBusy / usage.machineCapacity) * cores : 0;
  const stolen = usage.machineSteal / wall;
  const others = Math.max(0, usage.machineBusy - usage.machineSteal - ours) / wall;
  return (
    `cores used: ${parts.join(', ')}; machine ${busyCores.toFixed(2)} of ${cores} busy ` +
    `(other processes ${others.toFixed(2)}, stolen by the hypervisor ${stolen.toFixed(2)})`
  );
}
