/**
 * Several server processes behind HAProxy on this machine, to try what a scaled deployment does:
 *
 *   npm run cluster -- --processes N [--port P] [--database-url URL] [--redis-url URL] [--no-build]
 *
 * N processes (default 2) on one PostgreSQL (default postgres://postgres@127.0.0.1:5432/consilium_cluster,
 * created if missing) and one Redis (default redis://127.0.0.1:6379), each on a free port with its own
 * data folder under .cluster/, behind HAProxy on port P (default 8080, or a free one when it is taken).
 * Each process's output is printed as it comes, prefixed with its name. Ctrl-C stops it all.
 * The work is server/cluster/launch.ts; this is its command line.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { SIGN_IN_FILE } from '../server/auth/signInFile';
import { findHaproxy } from '../server/cluster/haproxy';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, startCluster, type Cluster } from '../server/cluster/launch';
import { portIsFree } from '../server/cluster/ports';

const USAGE = 'usage: npm run cluster -- --processes N [--port P] [--database-url URL] [--redis-url URL] [--no-build]';

function fail(message: string): never {
  process.stderr.write(`\n${message}\n\n`);
  process.exit(1);
}

function wholeNumber(value: string, what: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${what} must be a whole number from ${min} to ${max}, not '${value}'\n${USAGE}`);
  return n;
}

async function main() {
  let args;
  try {
    args = parseArgs({
      options: {
        processes: { type: 'string', default: '2' },
        port: { type: 'string' },
        'database-url': { type: 'string', default: DEFAULT_DATABASE_URL },
        'redis-url': { type: 'string', default: DEFAULT_REDIS_URL },
        'no-build': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!findHaproxy()) fail('HAProxy is not installed. Install it (Debian/Ubuntu): apt-get install haproxy');

  const processes = wholeNumber(args.processes, '--processes', 1, 64);
  let port = args.port === undefined ? 8080 : wholeNumber(args.port, '--port', 0, 65535);
  const notes: string[] = [];
  if (port !== 0 && !(await portIsFree(port))) {
    // An explicit --port that is taken is a mistake to report; the default one just moves.
    if (args.port !== undefined) fail(`Port ${port} on 127.0.0.1 is in use: choose another with --port.`);
    notes.push(`port 8080 is in use, so the load balancer takes a free one`);
    port = 0;
  }

  let cluster: Cluster;
  try {
    cluster = await startCluster({
      processes,
      port,
      databaseUrl: args['database-url'],
      redisUrl: args['redis-url'],
      build: !args['no-build'],
      // Something to try at once, as `npm start` has: the demo studies and their hospitals (DEMO=0 turns it off).
      env: { DEMO: process.env.DEMO ?? '1' },
    });
  } catch (err) {
    fail(`The cluster did not start: ${(err as Error).message}`);
  }

  const width = Math.max(...cluster.processes.map((p) => p.name.length));
  const banner = [
    '',
    `Consilium: ${cluster.processes.length} server process${cluster.processes.length === 1 ? '' : 'es'} behind HAProxy`,
    ...notes.map((n) => `  (${n})`),
    '',
    `  Open ${cluster.url}  (through the load balancer; config in ${cluster.haproxy.file})`,
    '',
    ...cluster.processes.map((p) => `  ${p.name.padEnd(width)}  port ${p.port}  pid ${p.pid}  data ${p.dataDir}`),
    '',
    `  Sign in as the platform admin, and open the demo hospitals' links, with the details in ${path.relative(process.cwd(), path.join(cluster.processes[0].dataDir, SIGN_IN_FILE))}`,
    '  (written by the first process at the database\'s first start; it applies the migrations before the others start).',
    `  Kill one to see another take over:   kill -9 ${cluster.processes[0].pid}`,
    `  Drain one (it finishes and hands over): kill -TERM ${cluster.processes[0].pid}`,
    `  Ctrl-C (or kill -TERM ${process.pid}) stops the load balancer and every process.`,
    '',
  ];
  process.stdout.write(banner.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    // Ctrl-C under `npm run` arrives twice (from the terminal and forwarded by npm): the second must
    // not kill the launcher before its processes have stopped. They get SIGKILL after 30 s anyway.
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the load balancer and the processes\n`);
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // HAProxy dying on its own leaves nothing to reach the processes through: stop the rest.
  cluster.haproxy.process.once('exit', (code, signal) => {
    // Ctrl-C reaches HAProxy too (one process group): that exit is part of the stop, not a failure.
    if (stopping) return;
    process.stdout.write(`haproxy exited (${signal ?? code}): stopping the processes\n`);
    void cluster.stop().then(() => process.exit(1));
  });
}

void main().catch((err) => fail(`npm run cluster failed: ${(err as Error)?.stack ?? err}`));
