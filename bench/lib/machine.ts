import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { median } from './table.ts';

export interface MachineInfo {
  cpus: number;
  cpuModel: string | undefined;
  node: string;
  platform: string;
  loadavgStart: number[];
  /** Latency of a small write + fsync in the bench folder: the floor under a durable audit write. */
  fsyncP50Ms: number;
  fsyncP99Ms: number;
}

/** Times `samples` small appends, each followed by fsync, in `dir`. */
export function fsyncLatencyMs(dir: string, samples = 200): { p50: number; p99: number } {
  const file = path.join(dir, '.fsync-probe');
  const fd = openSync(file, 'w');
  const times: number[] = [];
  try {
    const block = Buffer.alloc(512, 1);
    for (let i = 0; i < samples; i++) {
      const start = process.hrtime.bigint();
      writeSync(fd, block);
      fsyncSync(fd);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50: median(times), p99: times[Math.floor((times.length - 1) * 0.99)] as number };
}

export function describeMachine(benchDir: string): MachineInfo {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadavgStart: loadavg(),
    ...(({ p50, p99 }) => ({ fsyncP50Ms: p50, fsyncP99Ms: p99 }))(fsyncLatencyMs(benchDir)),
  };
}
