import { batchBytes, featureNames, recordsToBatch, type RecordBatch } from '../../shared/data/columnar';
import { fingerprintRecords } from '../../shared/data/fingerprint';
import { imageBatchBytes, type ImageBatch } from '../../shared/data/images/batch';
import { fingerprintImages } from '../../shared/data/images/fingerprint';
import { toBytes } from '../../shared/data/images/pixels';
import { labelClasses, StatsAccumulator } from '../../shared/data/stats';
import { allHeartDemoHospitals, generateHeartRecords, generateLesionImages, lesionHospitals } from '../../shared/synthetic';
import { builtInFamilies, templateFamily, type TaskTemplate } from '../../shared/tasks';
import { countLabels, ensureActiveDataset, type DatasetMeta } from './datasetStore';

/** The demo sites' seeded synthetic datasets: heart records or lesion scans, stored as imports are. */

/**
 * Writes the seeded demo records (or scans, for an image template) for `profileId` unless the site
 * already has an active dataset for the template. The check and the switch share one transaction, so
 * two tabs of the same site end up with one active demo dataset. A demo site enrolled in a study of
 * another template (a heart demo site in a lesion study) has no demo data for it: it imports its own.
 */
export async function ensureDemoRecords(siteId: string, profileId: string, template: TaskTemplate, studyId: string | null = null): Promise<void> {
  // A study defined in the console has no synthetic demo data: its sites import their own.
  if (!builtInFamilies.has(templateFamily(template.id))) return;
  const profiles: { id: string }[] = template.image ? lesionHospitals : allHeartDemoHospitals;
  if (!profiles.some((p) => p.id === profileId)) return;
  // The demo dataset's id is fixed, so regenerating it (two tabs at once) writes the same rows.
  await ensureActiveDataset(siteId, templateFamily(template.id), () => (template.image ? demoScans(profileId, template, studyId) : demoRecords(profileId, template, studyId)));
}

function demoMeta(template: TaskTemplate, profileId: string, name: string, studyId: string | null) {
  return { id: `demo-${templateFamily(template.id)}-${profileId}`, templateId: templateFamily(template.id), studyId, source: 'demo' as const, name: `Synthetic demo ${name}`, profileId, createdAt: new Date().toISOString(), chunks: 1, state: 'ready' as const };
}

async function demoRecords(profileId: string, template: TaskTemplate, studyId: string | null): Promise<{ meta: DatasetMeta; batch: RecordBatch }> {
  const profile = allHeartDemoHospitals.find((p) => p.id === profileId);
  if (!profile) throw new Error(`Unknown demo profile "${profileId}" for ${template.name}`);
  const records = generateHeartRecords(profile, { markers: true });
  const batch = recordsToBatch(featureNames(template), records);
  const stats = new StatsAccumulator(template);
  stats.addBatch(batch);
  const summary = stats.result();
  return {
    batch,
    meta: {
      ...demoMeta(template, profileId, `records (${profile.name})`, studyId),
      count: records.length,
      labelCounts: summary.labelCounts,
      fingerprint: await fingerprintRecords(template, records),
      bytes: batchBytes(batch),
      stats: summary,
    },
  };
}

/** A lesion demo profile's seeded scans, stored as imported scans are: 8-bit gray at the template's size. */
async function demoScans(profileId: string, template: TaskTemplate, studyId: string | null): Promise<{ meta: DatasetMeta; batch: ImageBatch }> {
  const profile = lesionHospitals.find((p) => p.id === profileId);
  const image = template.image!;
  if (!profile) throw new Error(`Unknown demo profile "${profileId}" for ${template.name}`);
  if (image.channels !== 1 || image.width !== image.height) throw new Error(`${template.name} has no demo scans of its input size`);
  const scans = generateLesionImages(profile, image.width);
  const batch: ImageBatch = { kind: 'images', n: scans.n, height: scans.h, width: scans.w, channels: 1, ids: scans.ids, pixels: toBytes(scans.images), labels: scans.labels };
  const labelCounts = countLabels(scans.labels, labelClasses(template).length);
  return {
    batch,
    meta: {
      ...demoMeta(template, profileId, `scans (${profile.name})`, studyId),
      count: scans.n,
      labelCounts,
      fingerprint: await fingerprintImages(template, [batch]),
      bytes: imageBatchBytes(batch),
      stats: { records: scans.n, features: [], labelCounts },
    },
  };
}
