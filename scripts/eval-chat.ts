// Answer quality of the patient chat on the held-out question set: prints every miss (wrong article,
// or the right article without the number or next step the question asked for), then, on the last
// line, `top1=0.NN top3=0.NN pass=0.NN answers-with-asked-content=K/M (N questions)`. `--calibrate` instead prints how the no-good-match threshold
// (MIN_COVERAGE) would do on the calibration set, which is where that threshold is chosen.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKnowledgeBase } from '../server/chat/articleSources';
import { evaluate, questionSetSchema, summaryLine } from '../shared/chat/eval/evaluate';
import { MIN_COVERAGE } from '../shared/chat/knowledgeBase';

const evalDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../shared/chat/eval');
const load = (name: string) => questionSetSchema.parse(JSON.parse(fs.readFileSync(path.join(evalDir, name), 'utf8')));

const kb = loadKnowledgeBase();

if (process.argv.includes('--calibrate')) {
  const set = load('calibration.json');
  const rows = set.questions.map((item) => {
    const outcome = kb.search(item.q);
    const top = outcome.hits[0];
    return { item, coverage: top?.coverage ?? 0, slug: top?.article.slug ?? '-' };
  });
  for (const r of rows.sort((a, b) => a.coverage - b.coverage))
    console.log(`${r.coverage.toFixed(2)}  ${r.item.expected === 'none' ? 'OUT' : r.slug === r.item.expected ? 'in ' : 'in?'}  ${r.item.q}  → ${r.slug}`);
  for (let t = 0.3; t <= 0.751; t += 0.05) {
    const right = rows.filter((r) => (r.item.expected === 'none' ? r.coverage < t : r.coverage >= t)).length;
    console.log(`threshold ${t.toFixed(2)}: ${right}/${rows.length} on the in-scope/out-of-scope decision${Math.abs(t - MIN_COVERAGE) < 1e-9 ? '  (current)' : ''}`);
  }
} else {
  const evaluation = evaluate(kb, load('questions.json'));
  const misses = evaluation.results.filter((r) => !r.pass);
  console.log(`${evaluation.results.length} questions, ${kb.articles.length} articles, ${kb.passages.length} passages`);
  for (const r of misses) {
    const got = r.reply === 'answer' ? r.ranking.slice(0, 3).join(', ') : r.reply;
    if (r.top1) console.log(`NO ANSWER   [${r.kind ?? ''}] ${r.q}\n            right article, but the quote lacks ${r.missing.map((m) => `"${m}"`).join(', ')}`);
    else console.log(`${r.top3 ? 'top-3 only' : 'MISS      '}  [${r.kind ?? ''}] ${r.q}\n            expected ${r.expected}, got ${got}`);
  }
  if (!misses.length) console.log('no misses');
  console.log(summaryLine(evaluation));
}
