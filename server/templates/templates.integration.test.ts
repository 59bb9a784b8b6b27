import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnSummary } from '../../shared/data/columns';
import type { StudySummary } from '../../shared/protocol/schemas';
import type { TemplateView } from '../../shared/protocol/studyAdmin';
import type { ColumnSummaryView } from '../../shared/protocol/templates';
import { getTemplate, parameterCount, templateFromDesign, type StudyDesignInput, type TaskTemplate } from '../../shared/tasks';
import type { Database } from '../db/client';
import { customTemplates, sites } from '../db/schema';
import { testDatabaseTargets } from '../testing/databases';
import { signIn, startServer, type RunningServer } from '../testing/harness';

const design = (family: string): StudyDesignInput => ({
  family,
  name: 'Sepsis within 48 h',
  features: [
    { kind: 'numeric', name: 'lactate', label: 'Lactate', unit: 'mmol/l', min: 0.3, max: 15, limits: { min: 0, max: 40 } },
    { kind: 'binary', name: 'fever', label: 'Fever' },
    { kind: 'categorical', name: 'ward', label: 'Ward', categories: [{ code: 1, label: 'ICU' }, { code: 2, label: 'medical' }] },
  ],
  label: { name: 'sepsis', description: 'Sepsis within 48 hours', positive: 'sepsis', negative: 'no sepsis', rule: { kind: 'direct' } },
  model: { kind: 'mlp', hidden: [{ units: 8 }] },
});

const summary: ColumnSummary = {
  source: 'export.csv',
  rows: 120,
  columns: [
    { name: 'age', type: 'integer', present: 118, missing: 2, p01: 21, p99: 93, mean: 61.2, std: 14.1 },
    { name: 'outcome', type: 'binary', present: 120, missing: 0, codes: ['0', '1'] },
  ],
};

describe.each(testDatabaseTargets())('custom study templates ($name)', (target) => {
  let database: Database;
  let server: RunningServer;
  let admin: Record<string, string>;
  // Families are unique per run: the template registry is the process's, shared by both databases' runs.
  const family = `sepsis-${target.name.toLowerCase().replace(/[^a-z0-9]+/g, '')}`;

  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await target.dispose(database);
  });
  beforeEach(async () => {
    await target.reset(database);
    await database.db.insert(sites).values({ id: 'site-a', name: 'Hospital A' });
    server = await startServer(database);
    admin = await signIn(server, {});
  });
  afterEach(async () => {
    await server.stop();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = admin) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', origin: server.url }, body: JSON.stringify(body) });
  const get = (path: string, headers: Record<string, string> = admin) => fetch(`${server.url}${path}`, { headers });

  it('defines a study from a design, lists it, exports it to any signed-in account, versions it and makes studies from it', async () => {
    const created = await post('/api/templates', { design: design(family) });
    expect(created.status).toBe(201);
    const { template, view } = (await created.json()) as { template: TaskTemplate; view: TemplateView };
    expect(template).toEqual(templateFromDesign(design(family)));
    expect(view).toMatchObject({ id: family, version: 1, latest: true, custom: true, input: 'tabular', taskKind: 'binary', parameters: parameterCount(template.model) });

    const listed = (await (await get('/api/templates')).json()) as TemplateView[];
    expect(listed.find((t) => t.id === family)?.custom).toBe(true);
    expect(listed.find((t) => t.id === 'heart-risk')?.custom).toBe(false);

    const staff = await signIn(server, { role: 'staff', siteId: 'site-a' });
    const exported = await get(`/api/templates/${family}`, staff);
    expect(exported.status).toBe(200);
    expect(await exported.json()).toEqual(template);
    expect((await get(`/api/templates/${family}`, {})).status).toBe(401);
    expect((await get('/api/templates/no-such-template')).status).toBe(404);
    expect(await (await get(`/api/templates/${family}/design`)).json()).toEqual(expect.objectContaining({ family, model: { kind: 'mlp', hidden: [{ units: 8, activation: 'relu' }] } }));

    // The next version may change the model, not the features.
    const v2 = await post('/api/templates', { design: { ...design(family), model: { kind: 'logistic' } }, changes: 'Logistic regression' });
    expect(v2.status).toBe(201);
    expect(((await v2.json()) as { template: TaskTemplate }).template).toMatchObject({ id: `${family}@2`, version: 2, changes: 'Logistic regression' });
    const listedAgain = (await (await get('/api/templates')).json()) as TemplateView[];
    expect(listedAgain.filter((t) => t.id.startsWith(family)).map((t) => [t.id, t.latest])).toEqual([
      [`${family}@2`, true],
      [family, false],
    ]);
    const changed = await post('/api/templates', { design: { ...design(family), features: design(family).features.slice(1) } });
    expect(changed.status).toBe(409);
    expect(((await changed.json()) as { error: { message: string } }).error.message).toMatch(/keeps its features and label/);

    const study = await post('/api/studies', { id: `${family}-study`, name: 'Sepsis study', templateId: family, siteIds: ['site-a'] });
    expect(study.status).toBe(201);
    expect(((await study.json()) as StudySummary).templateId).toBe(family);
  });

  it('refuses a bad design with the field and its reason, a built-in id, and non-admins, storing nothing', async () => {
    const bad = await post('/api/templates', { design: { ...design(family), features: [{ kind: 'numeric', name: 'x', label: 'X', min: 9, max: 1 }] } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/design\.features\.0\.max: the plausible range/);
    const huge = await post('/api/templates', { design: { ...design(family), model: { kind: 'mlp', hidden: [{ units: 1024 }, { units: 1024 }] } } });
    expect(huge.status).toBe(400);
    expect(((await huge.json()) as { error: { message: string } }).error.message).toMatch(/at most 500,000/);
    const builtIn = await post('/api/templates', { design: design('heart-risk') });
    expect(builtIn.status).toBe(409);
    const staff = await signIn(server, { role: 'staff', siteId: 'site-a' });
    expect((await post('/api/templates', { design: design(family) }, staff)).status).toBe(403);
    expect(await database.db.select().from(customTemplates)).toEqual([]);
  });

  it('registers a template another process stored when a request names it', async () => {
    const id = `${family}-peer`;
    const t = templateFromDesign(design(id));
    await database.db.insert(customTemplates).values({ id, family: id, version: 1, definition: t, design: design(id), createdBy: 'peer@test.local' });
    const res = await get(`/api/templates/${id}`);
    expect(res.status).toBe(200);
    expect(getTemplate(id)).toEqual(t);
  });

  it("stores a site's column statistics from its tab for the designer, and only a hospital's", async () => {
    const staff = await signIn(server, { role: 'staff', siteId: 'site-a' });
    const sent = await post('/api/column-summaries', summary, staff);
    expect(sent.status).toBe(201);
    expect((await post('/api/column-summaries', summary)).status).toBe(403);
    expect((await post('/api/column-summaries', { ...summary, columns: [] }, staff)).status).toBe(400);
    const listed = (await (await get('/api/column-summaries')).json()) as ColumnSummaryView[];
    expect(listed).toEqual([expect.objectContaining({ siteId: 'site-a', siteName: 'Hospital A', summary })]);
    expect((await get('/api/column-summaries', staff)).status).toBe(403);
  });
});
