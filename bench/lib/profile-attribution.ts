// Attributes the samples of a V8 CPU profile (`node --cpu-prof`) to where the gateway spends
// its time: a pipeline stage when a frame of `dist/pipeline/stages/<stage>.js` is on the stack
// (the innermost one: everything a stage calls, Cedar or the sanitizer included, is that
// stage's), otherwise the room (`dist/<room>/`) or package of the innermost frame that has
// one. Samples are kept only inside a window of the monotonic clock (microseconds, the clock
// of `process.hrtime`, which V8 stamps profiles with), so start-up and shutdown stay out.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Attribution {
  /** CPU microseconds by bucket (idle excluded). */
  buckets: Map<string, number>;
  /** Busy microseconds inside the window. */
  busyUs: number;
  /** Idle microseconds inside the window. */
  idleUs: number;
}

const STAGE = /\/dist\/pipeline\/stages\/([a-z-]+)\.js$/;
const ROOM = /\/dist\/([a-z-]+)\//;
const PACKAGE = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

function bucketOfFrame(url: string): string | undefined {
  const pkg = PACKAGE.exec(url);
  if (pkg) return pkg[1] === '@modelcontextprotocol/sdk' ? 'MCP SDK (Protocol, schemas)' : `package: ${pkg[1]}`;
  const room = ROOM.exec(url);
  if (room) return `gatehouse: ${room[1]}`;
  if (url.startsWith('node:internal/deps/undici')) return 'node: fetch/undici';
  if (url.startsWith('node:')) {
    const m = /^node:(?:internal\/)?([a-z_]+)/.exec(url);
    return `node: ${m?.[1] ?? 'internal'}`;
  }
  return undefined;
}

export function attributeProfile(file: string, fromUs: number, toUs: number): Attribution {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string>();
  const bucketOf = (id: number): string => {
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    const node = byId.get(id) as ProfileNode;
    const name = node.callFrame.functionName;
    let bucket: string;
    if (name === '(garbage collector)') bucket = 'GC';
    else if (name === '(idle)') bucket = 'idle';
    else if (name === '(program)') bucket = 'V8 / native (unattributed)';
    else {
      let stage: string | undefined;
      let first: string | undefined;
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const url = (byId.get(cur) as ProfileNode).callFrame.url;
        const s = STAGE.exec(url);
        if (s) {
          stage = `stage: ${s[1]}`;
          break;
        }
        first ??= bucketOfFrame(url);
      }
      bucket = stage ?? first ?? 'other';
    }
    memo.set(id, bucket);
    return bucket;
  };
  const buckets = new Map<string, number>();
  let t = profile.startTime;
  let busyUs = 0;
  let idleUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) continue;
    const bucket = bucketOf(profile.samples[i] as number);
    if (bucket === 'idle') {
      idleUs += dt;
      continue;
    }
    busyUs += dt;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + dt);
  }
  return { buckets, busyUs, idleUs };
}
