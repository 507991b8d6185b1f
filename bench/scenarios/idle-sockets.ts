/**
 * Memory per idle subscribed socket: this app's realtime side (request pipeline, sign-in and
 * limits, the subscribe handler with its snapshot, the slow-client guard, the Redis adapter)
 * against bare socket.io with the same Redis adapter and a subscribe that only joins the room.
 * Each server runs in a process of its own and measures its heap after a full collection,
 * before and after a crowd of clients (another process) connected and subscribed.
 */
import { alternate, startHelperProcess, type Scenario, stopProcess } from '../harness';
import { startBenchServices } from '../services';

interface Round {
  bytesPerSocket: number;
  subscribed: number;
}

async function heap(url: string): Promise<number> {
  return Number(await (await fetch(`${url}/heap`)).text());
}

export const idleSockets: Scenario = {
  name: 'idle-sockets',
  title: 'heap per idle subscribed socket: the app against bare socket.io with the same adapter',
  async run({ quick }) {
    const count = quick ? 300 : Number(process.env.BENCH_SOCKETS ?? 5000);
    const rounds = quick ? 1 : 2;
    const services = await startBenchServices();
    const env = { ...services.env, SOCKET_CONNECTIONS_PER_IP: '0', SOCKET_SUBSCRIBES_PER_MINUTE: '0' };
    const round = (mode: 'app' | 'bare') => async (): Promise<Round> => {
      const host = await startHelperProcess<{ url: string; jobId: string }>('socket-host.ts', env, [mode]);
      try {
        // Twice: the first read also settles what the first request itself allocated.
        await heap(host.ready.url);
        const before = await heap(host.ready.url);
        const crowd = await startHelperProcess<{ subscribed: number }>('socket-crowd.ts', {}, [host.ready.url, String(count), host.ready.jobId]);
        const after = await heap(host.ready.url);
        await stopProcess(crowd.child);
        return { bytesPerSocket: (after - before) / count, subscribed: crowd.ready.subscribed };
      } finally {
        await stopProcess(host.child);
      }
    };
    try {
      const results = await alternate(rounds, { bare: round('bare'), app: round('app') });
      // The least of the rounds: what a socket costs at the least, as garbage may still linger.
      const least = (rs: Round[]) => Math.min(...rs.map((r) => r.bytesPerSocket));
      const [app, bare] = [least(results.app), least(results.bare)];
      const everyone = [...results.app, ...results.bare].every((r) => r.subscribed === count);
      return {
        lines: [
          `${count} sockets, each subscribed to one job; least of ${rounds} alternating round(s)`,
          `app          ${(app / 1024).toFixed(1).padStart(6)} KB heap per socket`,
          `bare         ${(bare / 1024).toFixed(1).padStart(6)} KB heap per socket`,
        ],
        checks: [
          { label: 'every socket subscribed', value: everyone ? 1 : 0, bound: 'min', goal: 1, unit: '', kind: 'outcome' },
          { label: 'app / bare socket.io, heap per socket', value: app / bare, bound: 'max', goal: 1.2, unit: '×' },
        ],
      };
    } finally {
      await services.stop();
    }
  },
};
