/**
 * A federation of in-process hospitals against a real Consilium server:
 *
 *   npm run simulate -- --study heart-risk --hospitals 5 --rounds 20 --strategy fedavg
 *     [--strategy-options '{"trimFraction":0.2}'] [--local-epochs N | --local-steps N] [--learning-rate X] [--batch-size N]
 *     [--mu X] [--poison K] [--poison-scale S] [--seed N] [--json FILE] [--database postgres://…]
 *
 * The server (createApp) runs in this process on an in-memory PGlite, or on PostgreSQL with
 * --database. A platform admin creates the study over the REST API; each hospital joins over
 * Socket.IO, sends its aggregate statistics, trains every round with the shared TF.js core (cpu
 * backend) on its seeded non-IID synthetic data, uploads its delta over HTTP and evaluates every
 * version. Printed per round: the server's pooled validation figures and the round's seconds.
 * `--local-steps N`: every site takes exactly N optimiser steps a round (mini-batches cycling through its
 * records), whatever its size, instead of the template's local epochs.
 * `--poison K`: the first K sites upload their delta sign-flipped and scaled by S (default 10).
 * `--attack KIND` (scale, values, samples, flip, report; see server/testing/simulatedHospital.ts): the
 * first site attacks; the same study also runs clean with the same seed, and the last line is
 * `simulate: attack=KIND seed=S final_accuracy=X clean_accuracy=Y reported_accuracy=Z`: the attacked
 * and the clean final models' accuracy on the honest sites' validation records (computed here), and
 * the pooled accuracy the server reports for the attacked study's final version.
 * `--dp-noise Z --dp-clip C [--dp-sample-rate Q] [--dp-delta D] [--dp-budget E] [--dp-record-cap N]`:
 * site-level differential privacy (shared/fl/privacy/sitePrivacy.ts); each round's line gains the ε
 * spent so far. The budget defaults to what the planned rounds spend. With --secure-aggregation the
 * secure twin's sites add the noise themselves, as integer Skellam noise before masking (distributed
 * DP, shared/fl/secagg/distributedNoise.ts); the plaintext twin gets the central Gaussian noise.
 * `--secure-aggregation [--drop-before-masking K] [--drop-after-masking K]`: secure aggregation
 * (shared/fl/secagg): each site clips its delta to the template's first clipping bound and sends only
 * a masked ring encoding of it; the server unmasks the sum. In the first round, the first K sites drop
 * out after sharing keys and before their masked input (not in the sum), the next K after their
 * masked input and before the unmasking (in the sum). The same study also runs in plaintext with the
 * same seed, clip and dropouts (sites that dropped before masking send no update that round), and the
 * last line is `simulate: secure_aggregation=on dropped=K exact=true|false max_abs_diff=X`: whether
 * every round's unmasked sum equals, bit for bit, the survivors' ring inputs added up here, and the
 * largest difference between the secure and the plaintext final model's weights.
 * `--neighbours K` (with --secure-aggregation): SecAgg+'s sparse graph, each site sharing keys with and
 * masking against K neighbours only (K ≥ hospitals − 1: the complete graph); default automatic.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { studySpent, type SitePrivacyInput } from '../shared/fl/privacy/sitePrivacy';
import { strategyNames, type StrategyName } from '../shared/fl/strategy';
import { automaticNeighbours, effectiveNeighbours, neighbourhoodThreshold } from '../shared/fl/secagg/graph';
import { minimumThreshold } from '../shared/fl/secagg/protocol';
import { cohortTemplates } from '../shared/synthetic/cohort';
import { getTemplate, templateFamily, templates } from '../shared/tasks';
import { openDatabase } from '../server/db/client';
import { closeAggregationWorker } from '../server/rounds/runInWorker';
import { startServer } from '../server/testing/harness';
import { attackLine, attackOutcome } from '../server/testing/attacks';
import { attackKinds, type AttackKind } from '../server/testing/simulatedHospital';
import { runSimulation, secureClipNorm, type RoundMetrics, type SimulationOptions, type SimulationResult } from '../server/testing/simulation';

interface Args {
  study: string;
  hospitals: number;
  rounds: number;
  strategy: StrategyName;
  strategyOptions: Record<string, unknown>;
  localEpochs?: number;
  localSteps?: number;
  learningRate?: number;
  batchSize?: number;
  mu?: number;
  poison: number;
  poisonScale: number;
  attack: AttackKind | null;
  seed?: number;
  json?: string;
  database?: string;
  privacy: SitePrivacyInput | null;
  secure: { dropBefore: number; dropAfter: number; neighbours: number | null } | null;
}

function usage(problem: string): never {
  console.error(`${problem}\nusage: npm run simulate -- --study ${Object.keys(templates).filter((id) => (cohortTemplates as readonly string[]).includes(templateFamily(id))).join('|')} --hospitals N --rounds N --strategy ${strategyNames.join('|')}
  [--strategy-options JSON] [--local-epochs N | --local-steps N] [--learning-rate X] [--batch-size N] [--mu X]
  [--poison K] [--poison-scale S] [--attack ${attackKinds.join('|')}] [--seed N] [--json FILE] [--database postgres://…]
  [--dp-noise Z --dp-clip C [--dp-sample-rate Q] [--dp-delta D] [--dp-budget E] [--dp-record-cap N]]
  [--secure-aggregation [--drop-before-masking K] [--drop-after-masking K] [--neighbours K]]`);
  process.exit(2);
}

/** Options that take no value. */
const flags = ['secure-aggregation'];

function parseArgs(argv: string[]): Args {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) usage(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      if (flags.includes(a.slice(2, eq))) usage(`${a.slice(0, eq)} takes no value`);
      raw.set(a.slice(2, eq), a.slice(eq + 1));
    } else if (flags.includes(a.slice(2))) raw.set(a.slice(2), 'on');
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) usage(`${a} needs a value`);
      raw.set(a.slice(2), v);
      i++;
    }
  }
  const known = ['study', 'hospitals', 'rounds', 'strategy', 'strategy-options', 'local-epochs', 'local-steps', 'learning-rate', 'batch-size', 'mu', 'poison', 'poison-scale', 'attack', 'seed', 'json', 'database', 'dp-noise', 'dp-clip', 'dp-sample-rate', 'dp-delta', 'dp-budget', 'dp-record-cap', 'secure-aggregation', 'drop-before-masking', 'drop-after-masking', 'neighbours'];
  for (const k of raw.keys()) if (!known.includes(k)) usage(`unknown option --${k}`);
  if (raw.has('local-epochs') && raw.has('local-steps')) usage('--local-epochs and --local-steps count local work two ways: give one');
  const num = (k: string, check: (v: number) => boolean, what: string): number | undefined => {
    const v = raw.get(k);
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || !check(x)) usage(`--${k} must be ${what}, got '${v}'`);
    return x;
  };
  const whole = (v: number) => Number.isInteger(v) && v >= 0;
  const strategy = (raw.get('strategy') ?? 'fedavg') as StrategyName;
  if (!strategyNames.includes(strategy)) usage(`unknown strategy '${strategy}'`);
  let strategyOptions: Record<string, unknown> = {};
  if (raw.has('strategy-options')) {
    try {
      strategyOptions = JSON.parse(raw.get('strategy-options')!);
    } catch {
      usage('--strategy-options must be JSON');
    }
  }
  const attack = (raw.get('attack') ?? null) as AttackKind | null;
  if (attack !== null && !attackKinds.includes(attack)) usage(`unknown attack '${attack}': one of ${attackKinds.join(', ')}`);
  const study = raw.get('study') ?? 'heart-risk';
  if (!getTemplate(study) || !(cohortTemplates as readonly string[]).includes(templateFamily(study))) usage(`unknown study template '${study}'`);
  const rounds = num('rounds', (v) => whole(v) && v >= 1, 'a whole number ≥ 1') ?? 20;
  const dpNoise = num('dp-noise', (v) => v >= 0.1, 'at least 0.1');
  const dpClip = num('dp-clip', (v) => v > 0, 'positive');
  const dpOptions = ['dp-sample-rate', 'dp-delta', 'dp-budget', 'dp-record-cap'].filter((k) => raw.has(k));
  if ((dpNoise === undefined) !== (dpClip === undefined) || (dpNoise === undefined && dpOptions.length))
    usage(`differential privacy needs both --dp-noise and --dp-clip${dpOptions.length ? ` (given: --${dpOptions.join(', --')})` : ''}`);
  let privacy: SitePrivacyInput | null = null;
  if (dpNoise !== undefined && dpClip !== undefined) {
    const sampleRate = num('dp-sample-rate', (v) => v > 0 && v <= 1, 'in (0, 1]') ?? 1;
    const delta = num('dp-delta', (v) => v > 0 && v <= 0.01, 'in (0, 0.01]') ?? 1e-5;
    // By default the budget is what the planned rounds spend: the study runs them all. Under secure
    // aggregation the sites' Skellam noise is accounted by its own (slightly looser) accountant, and
    // the plaintext twin by the Gaussian one: the budget lets both run every round.
    const mechanism = { sampleRate, noiseMultiplier: dpNoise, delta, clipNorm: dpClip };
    const spends = [studySpent(mechanism, rounds).epsilon, ...(raw.has('secure-aggregation') ? [studySpent({ ...mechanism, distributed: true }, rounds).epsilon] : [])];
    const budget = num('dp-budget', (v) => v > 0, 'positive') ?? Math.max(...spends) * (1 + 1e-9);
    privacy = { clipNorm: dpClip, noiseMultiplier: dpNoise, sampleRate, delta, epsilonBudget: budget, recordCap: num('dp-record-cap', (v) => whole(v) && v >= 1, 'a whole number ≥ 1') ?? 100 };
  }
  const hospitals = num('hospitals', (v) => whole(v) && v >= 1, 'a whole number ≥ 1') ?? 5;
  const dropBefore = num('drop-before-masking', whole, 'a whole number');
  const dropAfter = num('drop-after-masking', whole, 'a whole number');
  const neighbours = num('neighbours', (v) => whole(v) && v >= 2, 'a whole number ≥ 2');
  let secure: Args['secure'] = null;
  if (raw.has('secure-aggregation')) {
    if (attack) usage('--attack and --secure-aggregation run one study each against a clean twin: give one of them');
    secure = { dropBefore: dropBefore ?? 0, dropAfter: dropAfter ?? 0, neighbours: neighbours ?? null };
    // The unmasking needs `threshold` answers from the sites whose masked inputs are in.
    const stay = hospitals - secure.dropBefore - secure.dropAfter;
    if (stay < minimumThreshold(hospitals))
      usage(`${secure.dropBefore + secure.dropAfter} of ${hospitals} sites dropping leaves ${stay} to unmask the sum; secure aggregation needs at least ${minimumThreshold(hospitals)}`);
    // Over a sparse graph the dropouts may all be one site's neighbours: k + 1 − t of them is the most any neighbourhood survives.
    const k = neighbours ?? automaticNeighbours(hospitals);
    const degree = k >= hospitals - 1 ? null : effectiveNeighbours(hospitals, k);
    if (degree !== null && secure.dropBefore + secure.dropAfter > degree + 1 - neighbourhoodThreshold(degree))
      usage(`with ${degree} neighbours a site's neighbourhood survives ${degree + 1 - neighbourhoodThreshold(degree)} dropouts at most (its threshold is ${neighbourhoodThreshold(degree)} of ${degree + 1}); ${secure.dropBefore + secure.dropAfter} may leave one short`);
  } else if (dropBefore !== undefined || dropAfter !== undefined || neighbours !== undefined) usage('--drop-before-masking, --drop-after-masking and --neighbours need --secure-aggregation');
  return {
    privacy,
    secure,
    study,
    hospitals,
    rounds,
    strategy,
    strategyOptions,
    localEpochs: num('local-epochs', (v) => whole(v) && v >= 1, 'a whole number ≥ 1'),
    localSteps: num('local-steps', (v) => whole(v) && v >= 1 && v <= 100_000, 'a whole number from 1 to 100000'),
    learningRate: num('learning-rate', (v) => v > 0, 'positive'),
    batchSize: num('batch-size', (v) => whole(v) && v >= 1, 'a whole number ≥ 1'),
    mu: num('mu', (v) => v >= 0, '≥ 0'),
    poison: num('poison', whole, 'a whole number') ?? 0,
    poisonScale: num('poison-scale', (v) => v > 0, 'positive') ?? 10,
    attack,
    seed: num('seed', whole, 'a whole number'),
    json: raw.get('json'),
    database: raw.get('database'),
  };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)} %`);
const fixed = (v: number | null | undefined, d: number) => (v === null || v === undefined ? '–' : v.toFixed(d));

/** One printed line per round. */
function roundLine(m: RoundMetrics, multiclass: boolean): string {
  const cols = [
    String(m.round).padStart(5),
    pct(m.accuracy).padStart(8),
    fixed(m.loss, 4).padStart(7),
    (multiclass ? fixed(m.macroF1, 3) : fixed(m.auroc, 3)).padStart(7),
    pct(m.sensitivity).padStart(8),
    pct(m.specificity).padStart(8),
    fixed(m.ece, 3).padStart(6),
    String(m.contributors).padStart(6),
    fixed(m.seconds, 2).padStart(7),
    ...(m.epsilon !== undefined ? [fixed(m.epsilon, 3).padStart(8)] : []),
  ];
  return cols.join('  ');
}

function roundHeader(multiclass: boolean, privacy: boolean): string {
  return ['round', 'accuracy', 'loss', multiclass ? 'macroF1' : 'AUROC', 'sens.', 'spec.', 'ECE', 'upd.', 'seconds', ...(privacy ? ['epsilon'] : [])]
    .map((h, i) => h.padStart([5, 8, 7, 7, 8, 8, 6, 6, 7, 8][i]))
    .join('  ');
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  tf.enableProdMode(); // also silences tfjs's "install the node backend" notice
  await tf.setBackend('cpu');
  const template = getTemplate(args.study)!;
  const multiclass = template.model.loss === 'categoricalCrossentropy';

  const database = await openDatabase(args.database ? { url: args.database } : {});
  const server = await startServer(database);
  const config: SimulationOptions['config'] = {
    ...(args.localEpochs !== undefined ? { localEpochs: args.localEpochs } : {}),
    ...(args.localSteps !== undefined ? { localSteps: args.localSteps } : {}),
    ...(args.learningRate !== undefined ? { learningRate: args.learningRate } : {}),
    ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
    ...(args.mu !== undefined && args.strategy !== 'fedprox' ? { fedProxMu: args.mu } : {}),
    ...(args.privacy ? { privacy: args.privacy } : {}),
  };
  const strategyOptions = args.strategy === 'fedprox' && args.mu !== undefined ? { ...args.strategyOptions, mu: args.mu } : args.strategyOptions;
  const seed = args.seed ?? template.defaults.seed;
  // Under secure aggregation both twins clip at the same fixed norm: the secure study's, at the sites; the plaintext one's, at the server.
  // Under differential privacy that norm is the privacy clip C in both, and the secure twin's sites add the noise (distributed Skellam).
  const secureConfig: SimulationOptions['config'] = args.secure && !args.privacy ? { ...config, clipping: { mode: 'fixed', norm: secureClipNorm(template) } } : config;
  const run = async (attack: AttackKind | null, secure?: boolean): Promise<SimulationResult> => {
    let header = false;
    const tag = `${Date.now().toString(36)}-${attack ?? (secure === undefined ? 'clean' : secure ? 'secure' : 'plain')}`;
    const result = await runSimulation(server, database, {
      ...(args.secure ? { secureAggregation: secure, dropBeforeMasking: args.secure.dropBefore, dropAfterMasking: args.secure.dropAfter, ...(args.secure.neighbours !== null ? { neighbours: args.secure.neighbours } : {}) } : {}),
      templateId: args.study,
      hospitals: args.hospitals,
      rounds: args.rounds,
      strategy: { name: args.strategy, options: strategyOptions } as SimulationOptions['strategy'],
      config: secureConfig,
      seed,
      poison: { count: args.poison, scale: args.poisonScale },
      attack,
      studyId: `sim-${args.study.replace('@', '-v')}-${args.strategy}-${tag}`.slice(0, 63),
      onRound: (m) => {
        if (!header) {
          console.log(roundHeader(multiclass, args.privacy !== null));
          header = true;
        }
        console.log(roundLine(m, multiclass));
      },
    });
    const c = result.config;
    console.log(
      `\n${template.id}${attack ? ` under the '${attack}' attack` : args.attack ? ' (clean)' : ''}${secure === undefined ? '' : secure ? ' with secure aggregation' : ' in plaintext'}: ${result.sites.length} hospitals, ${result.sites.reduce((s, x) => s + x.records, 0)} records; ${c.strategy.name} ${JSON.stringify(c.strategy.options)}; ` +
        `${c.rounds} rounds × ${c.localSteps !== undefined ? `${c.localSteps} local steps` : `${c.localEpochs} local epochs`} (${c.optimizer}, lr ${c.learningRate}, batch ${c.batchSize}${c.fedProxMu > 0 ? `, FedProx mu ${c.fedProxMu}` : ''}), seed ${c.seed}`,
    );
    if (c.privacy) {
      const last = result.rounds.at(-1);
      console.log(
        `  site-level differential privacy: clip ${c.privacy.clipNorm}, noise ${c.privacy.noiseMultiplier}, sampling rate ${c.privacy.sampleRate}, record cap ${c.privacy.recordCap}; ` +
          `ε ${last?.epsilon?.toPrecision(4) ?? '0'} spent of ${c.privacy.epsilonBudget.toPrecision(4)} at δ ${c.privacy.delta}`,
      );
    }
    if (c.secureAggregation || args.secure) console.log(`  ${c.secureAggregation ? 'secure aggregation: sites clip' : 'plaintext: the server clips'} at a fixed norm of ${c.clipping.mode === 'fixed' ? c.clipping.norm : c.clipping.mode}${c.secureAggregation?.neighbours ? `; SecAgg+ sparse graph, k = ${c.secureAggregation.neighbours} neighbours per site` : ''}`);
    const dropout = (k: number) =>
      !args.secure ? '' : k < args.secure.dropBefore ? '  DROPS in round 1 before masking' : k < args.secure.dropBefore + args.secure.dropAfter ? '  DROPS in round 1 after masking' : '';
    for (const [k, s] of result.sites.entries())
      console.log(
        `  ${s.id.padEnd(16)} ${String(s.records).padStart(5)} records (${s.train} train, ${s.validation} validation)${s.poisoned ? `  POISONED ×−${args.poisonScale}` : ''}${k === 0 && attack ? `  ATTACKER (${attack})` : ''}${dropout(k)}`,
      );
    for (const r of result.secure ?? [])
      console.log(
        `  round ${r.round}: sum of sites [${r.survivors.join(', ')}] (${r.contributors} contributors), ${c.privacy ? `noised by the sites, divided by q·W = ${r.serverWeight}` : `weight ${r.serverWeight} (sites: ${r.expectedWeight})`}, sha256 ${r.serverSha256.slice(0, 16)}… ${r.exact ? 'equals' : 'DIFFERS from'} the sites' inputs added up`,
      );
    console.log(
      `${database.kind === 'postgres' ? 'PostgreSQL' : 'PGlite (in memory)'}, TF.js ${tf.getBackend()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}: ${result.seconds.toFixed(1)} s\n`,
    );
    return result;
  };
  try {
    if (args.attack) {
      const clean = await run(null);
      const attacked = await run(args.attack);
      console.log(attackLine(attackOutcome(args.attack, seed, clean, attacked)));
    } else if (args.secure) {
      const secure = await run(null, true);
      const plain = await run(null, false);
      if (args.json) {
        await writeFile(args.json, `${JSON.stringify({ template: secure.template, studyId: secure.studyId, strategy: secure.strategy, config: secure.config, sites: secure.sites, rounds: secure.rounds, secure: secure.secure }, null, 2)}\n`);
        console.log(`wrote ${args.json}`);
      }
      const checks = secure.secure ?? [];
      const exact = checks.length > 0 && checks.every((r) => r.exact);
      console.log(`simulate: secure_aggregation=on dropped=${args.secure.dropBefore + args.secure.dropAfter} exact=${exact} max_abs_diff=${maxAbsDiff(secure.finalWeights, plain.finalWeights).toPrecision(6)}`);
    } else {
      const result = await run(null);
      if (args.json) {
        await writeFile(args.json, `${JSON.stringify({ template: result.template, studyId: result.studyId, strategy: result.strategy, config: result.config, sites: result.sites, rounds: result.rounds }, null, 2)}\n`);
        console.log(`wrote ${args.json}`);
      }
    }
  } finally {
    await server.stop();
    await closeAggregationWorker();
    await database.close();
  }
}

/** The largest difference between two models' weights, tensor by tensor. */
function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (const [k, t] of a.entries()) {
    if (t.length !== b[k].length) return Infinity;
    for (let i = 0; i < t.length; i++) max = Math.max(max, Math.abs(t[i] - b[k][i]));
  }
  return max;
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
