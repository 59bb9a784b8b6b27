/**
 * Checks a hospital export offline, with the same shared analysis the hospital page runs in its worker:
 *
 *   npm run import:check -- FILE --study TEMPLATE_ID|TEMPLATE_JSON|STUDY_JSON [--no-accept] [--encoding utf-8|windows-1252] [--list N]
 *
 * TEMPLATE_JSON is a study template as GET /api/templates/:id exports it (a study defined in the
 * console's study designer, or a built-in one); STUDY_JSON a study's definition as GET /api/studies/:id
 * returns it (its `templateId` is read: a built-in template).
 * Prints the review as text: the mapping and why, the missing-value codes, flagged and refused rows
 * with line numbers and reasons. What the review proposes (reading the columns in the template's
 * order, missing-value codes) is accepted by default, as if every "accept" were clicked on the page;
 * `--no-accept` shows the file as read before any proposal is accepted. The encoding is UTF-8 unless
 * the bytes are not valid UTF-8, then Windows-1252 (Latin-1), unless `--encoding` says. The last line
 * is always `import:check: rows=N kept=K flagged=F refused=R mapped=M/T`. Exit status: 0 when the file
 * can be imported, 1 when it cannot, 2 on bad arguments.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { analyseAccepting, analyseCsv, blobSource, formatReview, type CsvEncoding } from '../shared/data/csv';
import { getTemplate, taskTemplateSchema, templates, type TaskTemplate } from '../shared/tasks';

const USAGE = 'usage: npm run import:check -- FILE --study TEMPLATE_ID|TEMPLATE_JSON|STUDY_JSON [--no-accept] [--encoding utf-8|windows-1252] [--list N]';

function fail(message: string): never {
  console.error(`import:check: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

const studyFileSchema = z.object({ templateId: z.string().min(1), config: z.record(z.string(), z.unknown()).optional() }).passthrough();

function templateFor(study: string): TaskTemplate {
  const known = getTemplate(study);
  if (known) return known;
  if (!fs.existsSync(study)) fail(`'${study}' is neither a template (${Object.keys(templates).join(', ')}) nor a study JSON file`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(study, 'utf8'));
  } catch (e) {
    fail(`${study} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  // A template exported from the server (GET /api/templates/:id): it has features and a model.
  if (typeof raw === 'object' && raw !== null && 'features' in raw && 'model' in raw) {
    const template = taskTemplateSchema.safeParse(raw);
    if (!template.success) fail(`${study} is not a valid study template: ${template.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'template'}: ${i.message}`).join('; ')}`);
    return template.data;
  }
  const parsed = studyFileSchema.safeParse(raw);
  if (!parsed.success) fail(`${study} is neither a study template (GET /api/templates/:id) nor a study definition with a "templateId" (GET /api/studies/:id)`);
  const template = getTemplate(parsed.data.templateId);
  if (!template) fail(`${study} names template '${parsed.data.templateId}', which this version does not know (${Object.keys(templates).join(', ')}): for a study defined in the console, pass its template JSON (GET /api/templates/${parsed.data.templateId})`);
  return template;
}

const args = process.argv.slice(2);
let file: string | null = null;
let study: string | null = null;
let accept = true;
let encoding: CsvEncoding | null = null;
let listed = 50;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = (name: string) => {
    const eq = a.indexOf('=');
    if (eq >= 0) return a.slice(eq + 1);
    const v = args[++i];
    if (v === undefined) fail(`${name} needs a value`);
    return v;
  };
  if (a === '--study' || a.startsWith('--study=')) study = value('--study');
  else if (a === '--encoding' || a.startsWith('--encoding=')) {
    const e = value('--encoding');
    if (e !== 'utf-8' && e !== 'windows-1252') fail(`--encoding is utf-8 or windows-1252, not '${e}'`);
    encoding = e;
  } else if (a === '--list' || a.startsWith('--list=')) {
    listed = Number(value('--list'));
    if (!Number.isInteger(listed) || listed < 0) fail('--list takes a whole number');
  } else if (a === '--no-accept') accept = false;
  else if (a === '--help' || a === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('--')) fail(`unknown option ${a}`);
  else if (file === null) file = a;
  else fail(`one file at a time (got '${file}' and '${a}')`);
}
if (!file) fail('name the CSV file to check');
if (!study) fail('--study names the template id or a study JSON file');
if (!fs.existsSync(file) || !fs.statSync(file).isFile()) fail(`no file ${file}`);
const template = templateFor(study);
if (template.features.length === 0) fail(`${template.name} learns from images, not from a table`);

const bytes = fs.readFileSync(file);
if (!encoding) {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    encoding = 'utf-8';
  } catch {
    encoding = 'windows-1252';
  }
}
const blob = new Blob([bytes]);
const source = () => blobSource(blob, { encoding: encoding! });
const result = accept
  ? await analyseAccepting(source, template, { encoding })
  : await analyseCsv(source(), template, { encoding }).then((analysis) => ({ analysis, accepted: [], options: { encoding } }));

console.log(`import:check ${file}${accept ? '' : ' (--no-accept: proposals listed, not accepted)'}`);
console.log(formatReview(template, result, { maxListed: listed }));
process.exit(result.analysis.canImport ? 0 : 1);
